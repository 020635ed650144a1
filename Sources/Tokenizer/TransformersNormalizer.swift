/// The normalizer of `transformers.CLIPTokenizer` 5.x (`TextCleaning.transformers`):
/// NFC, then `\s+` replaced by one space, then lower-casing character by character.
enum TransformersNormalizer {
    static func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let composed = NFC.normalize(text)
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(composed.count)
        var inSpace = false
        for s in composed {
            if CharacterClass.of(s) == .whitespace {
                if !inSpace { out.append(" ") }
                inSpace = true
            } else {
                out.append(s)
                inSpace = false
            }
        }
        return Lowercasing.perScalar(out)
    }

    /// Splits raw text around exact occurrences of the special-token strings, which the
    /// tokenizers library extracts before normalizing. Returns segments in order; a segment is
    /// either `.text` or `.special(index into PreTokenizer.specialTokenTexts)`.
    enum Segment {
        case text([Unicode.Scalar])
        case special(Int)
    }

    static func splitSpecialTokens(_ text: [Unicode.Scalar]) -> [Segment] {
        guard text.contains("<") else { return [.text(text)] }
        var segments: [Segment] = []
        var start = 0
        var i = 0
        outer: while i < text.count {
            if text[i] == "<" {
                for (k, special) in PreTokenizer.specialTokenTexts.enumerated()
                where i + special.count <= text.count && text[i..<(i + special.count)].elementsEqual(special) {
                    if i > start { segments.append(.text(Array(text[start..<i]))) }
                    segments.append(.special(k))
                    i += special.count
                    start = i
                    continue outer
                }
            }
            i += 1
        }
        if start < text.count { segments.append(.text(Array(text[start...]))) }
        return segments
    }
}
