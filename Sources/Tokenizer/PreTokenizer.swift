/// CLIP's split pattern, written out by hand:
///
///     <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
///
/// Matches are found left to right; at each position the alternatives are tried in order, so a
/// special-token string is only recognised where a match starts, a contraction only at an
/// apostrophe that starts a match (`"!!'s"` gives `!!'` and `s`), a number is one digit, and
/// other characters form greedy runs. Whitespace separates matches and is dropped.
/// (Swift Regex does support `\p{L}` on Linux, but it matches grapheme clusters unless told
/// otherwise, while Python and the tokenizers library match code points; a hand-written scanner
/// over scalars is also much faster.)
///
/// OpenAI CLIP compiles the pattern with `re.IGNORECASE` (Python's `regex` module, simple case
/// folding). On lower-cased text that changes two things, reproduced with `pythonIgnoreCase`:
/// "ſ" (U+017F) matches the literal "s" (so "'ſ" is a contraction), and U+0345 COMBINING GREEK
/// YPOGEGRAMMENI, which folds to "ι", is matched by no alternative and so is dropped like a space.
enum PreTokenizer {
    struct Piece {
        /// Range into the scalar array that was split.
        let range: Range<Int>
        /// True when the piece is one of the special-token strings (`<|startoftext|>`, `<|endoftext|>`).
        let isSpecialTokenText: Bool
    }

    static let specialTokenTexts: [[Unicode.Scalar]] = [
        Array("<|startoftext|>".unicodeScalars), Array("<|endoftext|>".unicodeScalars),
    ]

    static func split(_ scalars: [Unicode.Scalar], pythonIgnoreCase: Bool) -> [Piece] {
        var pieces: [Piece] = []
        let n = scalars.count
        @inline(__always) func classOf(_ s: Unicode.Scalar) -> CharacterClass {
            pythonIgnoreCase && s.value == 0x345 ? .whitespace : CharacterClass.of(s)
        }
        var i = 0
        while i < n {
            let scalar = scalars[i]
            let cls = classOf(scalar)
            if cls == .whitespace {
                i += 1
                continue
            }
            if scalar == "<", let length = specialTokenLength(scalars, at: i, pythonIgnoreCase: pythonIgnoreCase) {
                pieces.append(Piece(range: i..<(i + length), isSpecialTokenText: true))
                i += length
                continue
            }
            if scalar == "'", let length = contractionLength(scalars, at: i, pythonIgnoreCase: pythonIgnoreCase) {
                pieces.append(Piece(range: i..<(i + length), isSpecialTokenText: false))
                i += length
                continue
            }
            var end = i + 1
            switch cls {
            case .letter:
                while end < n, classOf(scalars[end]) == .letter { end += 1 }
            case .number:
                break
            case .other:
                while end < n, classOf(scalars[end]) == .other { end += 1 }
            case .whitespace:
                preconditionFailure("unreachable")
            }
            pieces.append(Piece(range: i..<end, isSpecialTokenText: false))
            i = end
        }
        return pieces
    }

    private static func specialTokenLength(_ scalars: [Unicode.Scalar], at i: Int, pythonIgnoreCase: Bool) -> Int? {
        for special in specialTokenTexts where i + special.count <= scalars.count {
            let matches = zip(scalars[i..<(i + special.count)], special).allSatisfy { actual, expected in
                actual == expected || (pythonIgnoreCase && expected == "s" && actual == "\u{17F}")
            }
            if matches { return special.count }
        }
        return nil
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d` (the text is already lower-cased).
    private static func contractionLength(_ scalars: [Unicode.Scalar], at i: Int, pythonIgnoreCase: Bool) -> Int? {
        guard i + 1 < scalars.count else { return nil }
        switch scalars[i + 1] {
        case "\u{17F}" where pythonIgnoreCase:
            return 2
        case "s", "t", "m", "d":
            return 2
        case "r", "v":
            return i + 2 < scalars.count && scalars[i + 2] == "e" ? 3 : nil
        case "l":
            return i + 2 < scalars.count && scalars[i + 2] == "l" ? 3 : nil
        default:
            return nil
        }
    }
}
