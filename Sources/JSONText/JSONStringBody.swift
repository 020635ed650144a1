/// Reads one JSON string (RFC 8259 section 7): the single implementation behind Formats'
/// StrictJSON and the tokenizer's vocab.json reader, so both refuse the same bad strings with
/// the same words.
public enum JSONStringBody {
    public struct Failure: Error, Equatable {
        public let message: String
        /// Byte offset in the document.
        public let offset: Int
    }

    /// Reads from `index` (just after the opening quote) through the closing quote and moves
    /// `index` past it. Escapes are decoded; control characters, unknown escapes, unpaired
    /// surrogates and invalid UTF-8 are refused. Strings without escapes (nearly all of them,
    /// and every key of a 49,408-token vocab.json) take the fast path: no copy before the String.
    public static func read(_ bytes: UnsafeRawBufferPointer, at index: inout Int) throws(Failure) -> String {
        let start = index
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                guard let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self) else {
                    throw Failure(message: "invalid UTF-8 in a string", offset: start)
                }
                index += 1
                return text
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw Failure(message: "control character inside a string", offset: index) }
            index += 1
        }
        // Slow path: the string has escapes.
        var utf8 = Array(bytes[start..<index])
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                guard let text = String(validating: utf8, as: UTF8.self) else {
                    throw Failure(message: "invalid UTF-8 in a string", offset: start)
                }
                index += 1
                return text
            }
            if b < 0x20 { throw Failure(message: "control character inside a string", offset: index) }
            if b != UInt8(ascii: "\\") {
                utf8.append(b)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4(bytes, at: &index)
                if (0xD800..<0xDC00).contains(code) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw Failure(message: "unpaired surrogate in a \\u escape", offset: index)
                    }
                    index += 2
                    let low = try hex4(bytes, at: &index)
                    guard (0xDC00..<0xE000).contains(low) else {
                        throw Failure(message: "unpaired surrogate in a \\u escape", offset: index)
                    }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(code) {
                    throw Failure(message: "unpaired surrogate in a \\u escape", offset: index)
                }
                guard let scalar = Unicode.Scalar(code) else { throw Failure(message: "invalid \\u escape", offset: index) }
                utf8.append(contentsOf: String(scalar).utf8)
            default:
                throw Failure(message: "invalid escape in a string", offset: index - 1)
            }
        }
        throw Failure(message: "unterminated string", offset: index)
    }

    static func hex4(_ bytes: UnsafeRawBufferPointer, at index: inout Int) throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw Failure(message: "truncated \\u escape", offset: index) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let digit: UInt32
            switch b {
            case 0x30...0x39: digit = UInt32(b - 0x30)
            case 0x41...0x46: digit = UInt32(b - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(b - 0x61 + 10)
            default: throw Failure(message: "invalid hex digit in a \\u escape", offset: index)
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
