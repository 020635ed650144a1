/// Model-level failures, each a one-line message.
public enum ModelError: Error, CustomStringConvertible {
    case unsupported(String)
    case invalidInput(String)
    case missingFile(String)

    public var description: String {
        switch self {
        case .unsupported(let what): return "unsupported \(what)"
        case .invalidInput(let what): return what
        case .missingFile(let what): return what
        }
    }
}
