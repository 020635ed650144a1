/// HTML character references, decoded the two ways CLIP's clean-up decodes them.
enum HTMLUnescape {
    /// All WHATWG named references, keyed by name (with its ";" where the standard has one).
    static let named: [String: [Unicode.Scalar]] = {
        var table: [String: [Unicode.Scalar]] = [:]
        table.reserveCapacity(2300)
        for entry in HTMLEntityTable.packed.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            guard let eq = entry.firstIndex(of: "=") else { continue }
            let scalars = entry[entry.index(after: eq)...].split(separator: ".").compactMap {
                UInt32($0, radix: 16).flatMap(Unicode.Scalar.init)
            }
            table[String(entry[..<eq])] = scalars
        }
        return table
    }()

    /// ftfy's table: the `;`-terminated names, plus upper-case spellings of all-lower-case names
    /// (`&EACUTE;` for `&eacute;`) when that spelling means nothing to `html.unescape`; those
    /// decode to the upper-cased character(s).
    static let ftfyNamed: [String: [Unicode.Scalar]] = {
        var table: [String: [Unicode.Scalar]] = [:]
        for (name, value) in named where name.hasSuffix(";") {
            table[name] = value
        }
        for (name, value) in named where name.hasSuffix(";") && name == name.lowercased() {
            let upper = name.uppercased()
            let reference = Array(("&" + upper).unicodeScalars)
            if python(reference) == reference, table[upper] == nil {
                table[upper] = Array(String(scalars: value).uppercased().unicodeScalars)
            }
        }
        return table
    }()

    // MARK: - Python's html.unescape

    /// Python's `html.unescape`: `&name;`, legacy names without ";" (`&amp`, `&copy2024`), and
    /// `&#NNN;` / `&#xHH;` (";" optional) with the HTML5 rules for invalid numbers.
    static func python(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        replacingReferences(text) { i in pythonReference(text, at: i) }
    }

    /// Copies `text`, handing each "&" to `reference`: the scalars that replace the reference and
    /// the index after it, or nil to keep the "&" and go on after it. The one walk both
    /// unescapers share.
    private static func replacingReferences(_ text: [Unicode.Scalar],
                                            _ reference: (Int) -> (replacement: [Unicode.Scalar], end: Int)?) -> [Unicode.Scalar] {
        guard text.contains("&") else { return text }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            if text[i] == "&", let (replacement, end) = reference(i) {
                out.append(contentsOf: replacement)
                i = end
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }

    /// `html.unescape`'s reading of the reference at text[i] ("&").
    private static func pythonReference(_ text: [Unicode.Scalar], at i: Int) -> (replacement: [Unicode.Scalar], end: Int)? {
        let n = text.count
        // &#[0-9]+;?  |  &#[xX][0-9a-fA-F]+;?
        if i + 1 < n, text[i + 1] == "#" {
            var j = i + 2
            var hex = false
            if j < n, text[j] == "x" || text[j] == "X" { hex = true; j += 1 }
            let digitsStart = j
            var value: UInt64 = 0
            while j < n, let d = digitValue(text[j], hex: hex) {
                value = min(value * (hex ? 16 : 10) + UInt64(d), 0x1_0000_0000)
                j += 1
            }
            guard j > digitsStart else { return nil }  // "&#" not followed by a number is left alone
            if j < n, text[j] == ";" { j += 1 }
            return (numericReference(value), j)
        }
        // &[^\t\n\f <&#;]{1,32};?
        var j = i + 1
        while j < n, j - (i + 1) < 32, !isNameTerminator(text[j]) { j += 1 }
        guard j > i + 1 else { return nil }
        if j < n, text[j] == ";" { j += 1 }
        let name = String(scalars: text[(i + 1)..<j])
        if let value = named[name] { return (value, j) }
        // The longest prefix (of at least 2 characters) that is a legacy name wins.
        let nameScalars = Array(name.unicodeScalars)
        var length = nameScalars.count - 1
        while length >= 2 {
            if let value = named[String(scalars: nameScalars[..<length])] {
                return (value + nameScalars[length...], j)
            }
            length -= 1
        }
        return (["&"] + nameScalars, j)
    }

    private static func isNameTerminator(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "\t", "\n", "\u{0C}", " ", "<", "&", "#", ";": return true
        default: return false
        }
    }

    private static func digitValue(_ s: Unicode.Scalar, hex: Bool) -> UInt32? {
        switch s.value {
        case 0x30...0x39: return s.value - 0x30
        case 0x41...0x46 where hex: return s.value - 0x41 + 10
        case 0x61...0x66 where hex: return s.value - 0x61 + 10
        default: return nil
        }
    }

    /// What `html.unescape` makes of `&#value;`.
    private static func numericReference(_ value: UInt64) -> [Unicode.Scalar] {
        if value == 0 { return ["\u{FFFD}"] }
        if value == 0x0D { return ["\r"] }
        if (0x80...0x9F).contains(value) { return [Windows1252.scalar(for: UInt8(value))] }
        if (0xD800...0xDFFF).contains(value) || value > 0x10FFFF { return ["\u{FFFD}"] }
        let v = UInt32(value)
        let isNonCharacter = (0xFDD0...0xFDEF).contains(v) || (v & 0xFFFE) == 0xFFFE
        if (0x01...0x08).contains(v) || v == 0x0B || (0x0E...0x1F).contains(v) || v == 0x7F || isNonCharacter {
            return []
        }
        return [Unicode.Scalar(v)!]
    }

    // MARK: - ftfy's unescape_html

    /// ftfy's `unescape_html`: only `&#?[0-9A-Za-z]{1,24};` is considered; names from
    /// `ftfyNamed`, numbers through `html.unescape` unless that leaves a ";" behind.
    static func ftfy(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        replacingReferences(text) { i in
            let n = text.count
            var j = i + 1
            let hasHash = j < n && text[j] == "#"
            if hasHash { j += 1 }
            let nameStart = j
            while j < n, j - nameStart < 24, isASCIIAlphanumeric(text[j]) { j += 1 }
            guard j > nameStart, j < n, text[j] == ";" else { return nil }
            let reference = Array(text[i...j])
            if hasHash {
                let decoded = python(reference)
                return (decoded.contains(";") ? reference : decoded, j + 1)
            }
            return (ftfyNamed[String(scalars: reference[1...])] ?? reference, j + 1)
        }
    }

    private static func isASCIIAlphanumeric(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return false
        }
    }
}
