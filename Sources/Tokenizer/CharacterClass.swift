/// The Unicode classes CLIP's split pattern is written in: `\s`, `\p{L}`, `\p{N}`, and the rest.
enum CharacterClass: UInt8 {
    case whitespace, letter, number, other

    /// `\s` is the Unicode White_Space property (as in Python's `regex` and Oniguruma after
    /// the clean-up), `\p{L}` the general categories Lu Ll Lt Lm Lo, `\p{N}` Nd Nl No.
    @inline(__always)
    static func of(_ scalar: Unicode.Scalar) -> CharacterClass {
        let v = scalar.value
        if v < 0x80 { return ascii[Int(v)] }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    private static let ascii: [CharacterClass] = (0..<128).map { v -> CharacterClass in
        switch v {
        case 0x09...0x0D, 0x20: return .whitespace
        case 0x41...0x5A, 0x61...0x7A: return .letter
        case 0x30...0x39: return .number
        default: return .other
        }
    }
}
