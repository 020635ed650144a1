import Foundation

/// The part of `ftfy.fix_text` (ftfy 6, default settings) that can be reproduced exactly with
/// character tables. CLIP's clean-up starts with `ftfy.fix_text`.
///
/// Done, in ftfy's order, repeated until nothing changes, line by line:
/// - `unescape_html`: HTML references ending in ";" (see `HTMLUnescape.ftfy`), skipped from the
///   first line that contains "<" onwards, as ftfy does;
/// - `fix_c1_controls`: U+0080-U+009F read as Windows-1252;
/// - `fix_latin_ligatures`: ﬁ ﬂ ﬀ ﬃ ﬄ ﬅ ﬆ Ĳ ĳ ŉ Ǳ ǲ ǳ Ǆ ǅ ǆ Ǉ ǈ ǉ Ǌ ǋ ǌ split into letters;
/// - `fix_character_width`: fullwidth ASCII, halfwidth katakana/hangul and U+3000 to normal width;
/// - `uncurl_quotes`: ʼ ‘ ’ ‚ ‛ to ', “ ” „ ‟ to ";
/// - `remove_terminal_escapes`: ESC [ digits/";" letter;
/// - `remove_control_chars`: C0 controls other than \t \n \f \r, DEL, U+206A-U+206F, U+FEFF,
///   U+FFF9-U+FFFC;
/// - NFC normalization.
///
/// Not done: `fix_encoding` and its helpers (`restore_byte_a0`, `replace_lossy_sequences`,
/// `decode_inconsistent_utf8`), the mojibake repair that needs ftfy's statistical heuristics,
/// so "doesnâ€™t" stays as it is. `fix_line_breaks` is skipped because every line break becomes
/// a space afterwards anyway; `fix_surrogates` cannot apply to a Swift String.
enum FtfyFixes {
    static func fixText(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var unescapeHTML = true
        var start = 0
        while start < text.count {
            var end = start
            while end < text.count, text[end] != "\n" { end += 1 }
            if end < text.count { end += 1 }  // the segment keeps its "\n"
            var segment = Array(text[start..<end])
            if unescapeHTML && segment.contains("<") { unescapeHTML = false }
            while true {
                let original = segment
                segment = fixOnce(segment, unescapeHTML: unescapeHTML)
                if segment == original { break }
            }
            out.append(contentsOf: segment)
            start = end
        }
        return out
    }

    private static func fixOnce(_ text: [Unicode.Scalar], unescapeHTML: Bool) -> [Unicode.Scalar] {
        var text = unescapeHTML ? HTMLUnescape.ftfy(text) : text
        text = text.map { (0x80...0x9F).contains($0.value) ? Windows1252.scalar(for: UInt8($0.value)) : $0 }
        text = text.flatMap { ligatures[$0.value].map { Array($0.unicodeScalars) } ?? [$0] }
        text = text.flatMap { widthForm($0) }
        text = text.map { uncurl($0) }
        text = removeTerminalEscapes(text)
        text.removeAll { isRemovedControl($0.value) }
        return NFC.normalize(text)
    }

    private static let ligatures: [UInt32: String] = [
        0x0132: "IJ", 0x0133: "ij", 0x0149: "\u{2BC}n",
        0x01F1: "DZ", 0x01F2: "Dz", 0x01F3: "dz",
        0x01C4: "D\u{17D}", 0x01C5: "D\u{17E}", 0x01C6: "d\u{17E}",
        0x01C7: "LJ", 0x01C8: "Lj", 0x01C9: "lj",
        0x01CA: "NJ", 0x01CB: "Nj", 0x01CC: "nj",
        0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi", 0xFB04: "ffl",
        0xFB05: "\u{17F}t", 0xFB06: "st",
    ]

    /// ftfy's WIDTH_MAP: U+3000 and the NFKC form of each changed character in U+FF01-U+FFEF.
    private static func widthForm(_ s: Unicode.Scalar) -> [Unicode.Scalar] {
        let v = s.value
        if v == 0x3000 { return [" "] }
        if (0xFF01...0xFF5E).contains(v) { return [Unicode.Scalar(v - 0xFEE0)!] }
        guard (0xFF5F...0xFFEF).contains(v) else { return [s] }
        if v == 0xFFE3 { return [" ", "\u{304}"] }
        if let mapped = narrowForms[v] { return [Unicode.Scalar(mapped)!] }
        return [s]
    }

    private static let narrowForms: [UInt32: UInt32] = {
        // (first code point, mapped values...) runs, from unicodedata.normalize("NFKC", ...).
        let runs: [(UInt32, [UInt32])] = [
            (0xFF5F, [0x2985, 0x2986, 0x3002, 0x300C, 0x300D, 0x3001, 0x30FB, 0x30F2,
                      0x30A1, 0x30A3, 0x30A5, 0x30A7, 0x30A9, 0x30E3, 0x30E5, 0x30E7,
                      0x30C3, 0x30FC, 0x30A2, 0x30A4, 0x30A6, 0x30A8, 0x30AA, 0x30AB,
                      0x30AD, 0x30AF, 0x30B1, 0x30B3, 0x30B5, 0x30B7, 0x30B9, 0x30BB,
                      0x30BD, 0x30BF, 0x30C1, 0x30C4, 0x30C6, 0x30C8, 0x30CA, 0x30CB,
                      0x30CC, 0x30CD, 0x30CE, 0x30CF, 0x30D2, 0x30D5, 0x30D8, 0x30DB,
                      0x30DE, 0x30DF, 0x30E0, 0x30E1, 0x30E2, 0x30E4, 0x30E6, 0x30E8,
                      0x30E9, 0x30EA, 0x30EB, 0x30EC, 0x30ED, 0x30EF, 0x30F3, 0x3099,
                      0x309A, 0x1160, 0x1100, 0x1101, 0x11AA, 0x1102, 0x11AC, 0x11AD,
                      0x1103, 0x1104, 0x1105, 0x11B0, 0x11B1, 0x11B2, 0x11B3, 0x11B4,
                      0x11B5, 0x111A, 0x1106, 0x1107, 0x1108, 0x1121, 0x1109, 0x110A,
                      0x110B, 0x110C, 0x110D, 0x110E, 0x110F, 0x1110, 0x1111, 0x1112]),
            (0xFFC2, [0x1161, 0x1162, 0x1163, 0x1164, 0x1165, 0x1166]),
            (0xFFCA, [0x1167, 0x1168, 0x1169, 0x116A, 0x116B, 0x116C]),
            (0xFFD2, [0x116D, 0x116E, 0x116F, 0x1170, 0x1171, 0x1172]),
            (0xFFDA, [0x1173, 0x1174, 0x1175]),
            (0xFFE0, [0x00A2, 0x00A3, 0x00AC]),  // U+FFE3 maps to two characters, see widthForm
            (0xFFE4, [0x00A6, 0x00A5, 0x20A9]),
            (0xFFE8, [0x2502, 0x2190, 0x2191, 0x2192, 0x2193, 0x25A0, 0x25CB]),
        ]
        var map: [UInt32: UInt32] = [:]
        for (first, values) in runs {
            for (k, value) in values.enumerated() { map[first + UInt32(k)] = value }
        }
        return map
    }()

    private static func uncurl(_ s: Unicode.Scalar) -> Unicode.Scalar {
        switch s.value {
        case 0x02BC, 0x2018...0x201B: return "'"
        case 0x201C...0x201F: return "\""
        default: return s
        }
    }

    /// ESC "[" [0-9;]* [A-Za-z]
    private static func removeTerminalEscapes(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("\u{1B}") else { return text }
        var out: [Unicode.Scalar] = []
        var i = 0
        while i < text.count {
            if text[i] == "\u{1B}", i + 1 < text.count, text[i + 1] == "[" {
                var j = i + 2
                while j < text.count, text[j] == ";" || ("0"..."9").contains(text[j]) { j += 1 }
                if j < text.count, ("a"..."z").contains(text[j]) || ("A"..."Z").contains(text[j]) {
                    i = j + 1
                    continue
                }
            }
            out.append(text[i])
            i += 1
        }
        return out
    }

    private static func isRemovedControl(_ v: UInt32) -> Bool {
        switch v {
        case 0x00...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC: return true
        default: return false
        }
    }
}
