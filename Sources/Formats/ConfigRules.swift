/// The checks `ValidatedConfig.validate(file:)` implementations are written with. Each
/// failure is one line, `<file>: key '<key>' = <value>: <reason>`, with the allowed range in
/// the reason, as a `FormatError` with problem `.invalidConfig`.
public struct ConfigRules {
    public let file: String

    /// The bounds shared by the model configs: wide enough for every real model (SD1.x uses
    /// at most 1280 channels, 24 layers), tight enough that no value can make a model whose
    /// size overflows or exhausts memory before its weights are even compared with the file.
    public static let maxChannels = 16384
    public static let maxLayers = 256
    /// Resolution levels of a UNet or VAE (each one halves the size).
    public static let maxLevels = 8
    public static let maxVocabulary = 1 << 20
    public static let maxImageSize = 16384

    public init(file: String) {
        self.file = file
    }

    /// A failure for `key` holding `value` (shown as JSON would show it).
    public func failure(_ key: String, _ value: Any, _ reason: String) -> FormatError {
        FormatError(file: file, problem: .invalidConfig,
                    message: "key '\(key.terminalSafe)' = \(Self.show(value)): \(reason)")
    }

    /// A failure that concerns several keys together.
    public func failure(_ reason: String) -> FormatError {
        FormatError(file: file, problem: .invalidConfig, message: reason)
    }

    public func require(_ condition: Bool, _ key: String, _ value: Any, _ reason: @autoclosure () -> String) throws {
        if !condition { throw failure(key, value, reason()) }
    }

    /// The `format` / `format_version` pair this project's converters write at the top of a
    /// config: the name it must carry and the only version known (1).
    public func format(_ name: String, version: Int, expected: String) throws {
        try require(name == expected, "format", name, "expected \(expected)")
        try require(version == 1, "format_version", version, "only version 1 is known")
    }

    /// `value` must lie in `allowed`; `what` says what the key means, for the message.
    public func range(_ key: String, _ value: Int, _ allowed: ClosedRange<Int>, _ what: String = "") throws {
        try require(allowed.contains(value), key, value,
                    "must lie in \(allowed.lowerBound)...\(allowed.upperBound)" + (what.isEmpty ? "" : " (\(what))"))
    }

    /// Every element in `allowed`, and `count` elements in `counts`.
    public func list(_ key: String, _ values: [Int], counts: ClosedRange<Int>, _ allowed: ClosedRange<Int>,
                     _ what: String = "") throws {
        try require(counts.contains(values.count), key, values,
                    "needs \(counts.lowerBound)...\(counts.upperBound) entries, has \(values.count)")
        for (index, value) in values.enumerated() {
            try range("\(key)[\(index)]", value, allowed, what)
        }
    }

    /// A finite number greater than zero (and below `below` when given).
    public func positive(_ key: String, _ value: Double, below: Double? = nil) throws {
        if let below {
            try require(value.isFinite && value > 0 && value < below, key, value, "must be a number in (0, \(Self.show(below)))")
        } else {
            try require(value.isFinite && value > 0, key, value, "must be a finite number greater than 0")
        }
    }

    public func finite(_ key: String, _ value: Double) throws {
        try require(value.isFinite, key, value, "must be a finite number")
    }

    /// `value` as a config file would write it: strings quoted and made terminal-safe.
    static func show(_ value: Any) -> String {
        switch value {
        case let text as String: return "\"\(text.terminalSafe)\""
        case let number as Double: return number.isFinite && number == number.rounded() && abs(number) < 1e15
            ? String(Int(number)) : "\(number)"
        case let number as Float: return show(Double(number))
        case let list as [Int]:
            return list.count <= 16 ? "\(list)" : "[\(list.prefix(16).map(String.init).joined(separator: ", ")), ...]"
        case let list as [String]: return "[" + list.prefix(16).map { show($0) }.joined(separator: ", ") + "]"
        default: return "\(value)".terminalSafe
        }
    }
}
