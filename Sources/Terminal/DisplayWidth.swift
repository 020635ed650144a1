/// Terminal column widths of text: wide East Asian characters and emoji take two columns,
/// combining marks and zero-width characters none, everything else one. A fixed table, so
/// the answer does not depend on the process's locale.
public enum DisplayWidth {
    static let wide: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
        0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
        0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD,
    ]
    static let zero: [ClosedRange<UInt32>] = [
        0x0300...0x036F, 0x200B...0x200F, 0x20D0...0x20FF, 0xFE00...0xFE0F, 0xFE20...0xFE2F,
    ]

    public static func of(_ character: Character) -> Int {
        guard let first = character.unicodeScalars.first?.value else { return 0 }
        if first < 32 || zero.contains(where: { $0.contains(first) }) { return 0 }
        return wide.contains(where: { $0.contains(first) }) ? 2 : 1
    }

    public static func of(_ text: String) -> Int { text.reduce(0) { $0 + of($1) } }

    /// The longest prefix of `text` that fits in `columns`; "…" marks a cut when `ellipsis`.
    public static func truncate(_ text: String, to columns: Int, ellipsis: Bool = true) -> String {
        guard columns > 0 else { return "" }
        if of(text) <= columns { return text }
        let room = ellipsis ? columns - 1 : columns
        var out = "", used = 0
        for character in text {
            let width = of(character)
            if used + width > room { break }
            out.append(character)
            used += width
        }
        return ellipsis ? out + "…" : out
    }

    /// `text` cut or padded with spaces to exactly `columns`.
    public static func pad(_ text: String, to columns: Int) -> String {
        let cut = truncate(text, to: columns)
        return cut + String(repeating: " ", count: max(0, columns - of(cut)))
    }
}
