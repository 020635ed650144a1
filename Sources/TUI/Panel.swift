/// The panels Tab walks through, in order (the preview is shown, never focused).
public enum Panel: Int, CaseIterable, Sendable {
    case reference, prompt, negative, parameters, gallery

    public var title: String {
        switch self {
        case .reference: return "Reference"
        case .prompt: return "Prompt"
        case .negative: return "Negative prompt"
        case .parameters: return "Parameters"
        case .gallery: return "Gallery"
        }
    }

    public func next(_ direction: Int) -> Panel {
        let count = Panel.allCases.count
        return Panel(rawValue: ((rawValue + direction) % count + count) % count)!
    }
}

extension Panel {
    /// Where the focused panel's keys are in the key table.
    var keyScope: KeyBinding.Scope {
        switch self {
        case .reference: return .reference
        case .prompt, .negative: return .prompt
        case .parameters: return .parameters
        case .gallery: return .gallery
        }
    }
}
