/// A key press, as the UI sees it (ncurses' codes and control bytes translated).
public enum Key: Equatable, Hashable, Sendable {
    case character(Character)
    case control(Character)     // Ctrl + a letter, lower case ("a" for Ctrl-A)
    case alt(Character)
    case up, down, left, right
    case home, end, pageUp, pageDown
    case enter, tab, backTab, backspace, delete, escape
    case resize
    case function(Int)

    /// Translates a character delivered by get_wch (not a function key).
    public static func fromCharacter(_ value: UInt32) -> Key? {
        switch value {
        case 9: return .tab
        case 10, 13: return value == 13 ? .enter : .control("j")
        case 27: return .escape
        case 8, 127: return .backspace
        case 0: return .control("@")
        case 1...26: return .control(Character(Unicode.Scalar(value + 96)!))
        default:
            guard let scalar = Unicode.Scalar(value) else { return nil }
            return .character(Character(scalar))
        }
    }
}
