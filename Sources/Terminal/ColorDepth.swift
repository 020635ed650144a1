/// How many colours the terminal can show, which decides how images and themes are drawn.
public enum ColorDepth: Int, Comparable, Sendable {
    /// NO_COLOR is set: attributes only (bold, reverse, ...), images as grey shading characters.
    case none = 0
    case basic8 = 8
    case palette256 = 256
    case trueColor = 16_777_216

    public static func < (a: ColorDepth, b: ColorDepth) -> Bool { a.rawValue < b.rawValue }

    /// NO_COLOR (any non-empty value, https://no-color.org) wins; COLORTERM=truecolor|24bit
    /// means 24-bit; otherwise terminfo's colour count decides.
    public static func detect(environment: [String: String], terminfoColors: Int) -> ColorDepth {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .none }
        let colorTerm = environment["COLORTERM"]?.lowercased() ?? ""
        if colorTerm == "truecolor" || colorTerm == "24bit" { return .trueColor }
        if terminfoColors >= 256 { return .palette256 }
        if terminfoColors >= 8 { return .basic8 }
        return .none
    }
}
