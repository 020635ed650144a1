import CNcursesw

/// ncurses video attributes (the A_* macros, which Swift cannot import: they are bit shifts).
public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let standout = TextAttributes(rawValue: 1 << 16)
    public static let underline = TextAttributes(rawValue: 1 << 17)
    public static let reverse = TextAttributes(rawValue: 1 << 18)
    public static let dim = TextAttributes(rawValue: 1 << 20)
    public static let bold = TextAttributes(rawValue: 1 << 21)
}

/// How one piece of text is drawn: a colour pair (0 = the terminal's default) and attributes.
public struct TextStyle: Hashable, Sendable {
    public var pair: Int16
    public var attributes: TextAttributes

    public init(pair: Int16 = 0, attributes: TextAttributes = []) {
        self.pair = pair
        self.attributes = attributes
    }

    public func adding(_ more: TextAttributes) -> TextStyle {
        TextStyle(pair: pair, attributes: attributes.union(more))
    }
}
