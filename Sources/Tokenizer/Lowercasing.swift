/// Full Unicode lower-casing of scalars, the two ways the references do it.
enum Lowercasing {
    /// Each scalar on its own (Rust's `char::to_lowercase`, as in the tokenizers library).
    static func perScalar(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for s in text { appendLowercase(s, to: &out) }
        return out
    }

    /// Python's `str.lower`: as `perScalar`, except that Σ is ς in the Final_Sigma context
    /// (after a cased letter and not before one, case-ignorable characters skipped).
    static func python(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for (i, s) in text.enumerated() {
            if s == "\u{3A3}" && isFinalSigma(text, at: i) {
                out.append("\u{3C2}")
            } else {
                appendLowercase(s, to: &out)
            }
        }
        return out
    }

    @inline(__always)
    private static func appendLowercase(_ s: Unicode.Scalar, to out: inout [Unicode.Scalar]) {
        let v = s.value
        if v < 0x80 {
            out.append((0x41...0x5A).contains(v) ? Unicode.Scalar(v + 0x20)! : s)
        } else if s.properties.changesWhenLowercased {
            out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
        } else {
            out.append(s)
        }
    }

    private static func isFinalSigma(_ text: [Unicode.Scalar], at i: Int) -> Bool {
        var j = i - 1
        while j >= 0, text[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0, text[j].properties.isCased else { return false }
        j = i + 1
        while j < text.count, text[j].properties.isCaseIgnorable { j += 1 }
        return j == text.count || !text[j].properties.isCased
    }
}
