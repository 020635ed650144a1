import Foundation
import TerminalText

/// Reads `vocab.json`: one JSON object mapping each BPE token to its id.
///
/// A small dedicated parser rather than JSONSerialization: it is several times faster on the
/// 49,408-entry file and reports where a malformed file goes wrong.
enum VocabularyFile {
    static func load(_ url: URL) throws -> [String: Int] {
        let data = try TokenizerError.readFile(url)
        do {
            return try data.withUnsafeBytes { raw in
                var parser = Parser(bytes: raw.bindMemory(to: UInt8.self))
                return try parser.parseObject()
            }
        } catch let failure as Failure {
            throw TokenizerError.malformedFile(url, reason: "\(failure.message) at byte \(failure.offset)")
        }
    }

    struct Failure: Error {
        let message: String
        let offset: Int
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
            // A UTF-8 byte order mark is tolerated.
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { i = 3 }
        }

        func fail(_ message: String) -> Failure { Failure(message: message, offset: i) }

        mutating func skipSpace() {
            while i < bytes.count {
                switch bytes[i] {
                case 0x20, 0x09, 0x0A, 0x0D: i += 1
                default: return
                }
            }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws {
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end of file, expected \(what)") }
            guard bytes[i] == byte else { throw fail("expected \(what)") }
            i += 1
        }

        mutating func parseObject() throws -> [String: Int] {
            guard !bytes.isEmpty else { throw fail("empty file, expected a JSON object") }
            try expect(UInt8(ascii: "{"), "'{' (a JSON object of token: id)")
            var vocab: [String: Int] = [:]
            vocab.reserveCapacity(max(16, bytes.count / 20))
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                i += 1
            } else {
                while true {
                    try expect(UInt8(ascii: "\""), "'\"' starting a token")
                    let keyOffset = i
                    let key = try parseStringBody()
                    try expect(UInt8(ascii: ":"), "':' after a token")
                    skipSpace()
                    if vocab.updateValue(try parseID(), forKey: key) != nil {
                        // JSON parsers keep one of two equal keys; which id is meant is unknowable.
                        throw Failure(message: "the token \(key.debugDescription.terminalSafe) appears twice", offset: keyOffset)
                    }
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end of file, expected ',' or '}'") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; break }
                    throw fail("expected ',' or '}'")
                }
            }
            skipSpace()
            guard i == bytes.count else { throw fail("unexpected content after the JSON object") }
            return vocab
        }

        /// A non-negative integer id.
        mutating func parseID() throws -> Int {
            let start = i
            var value = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                value = value &* 10 &+ Int(bytes[i] - 0x30)
                i += 1
                if i - start > 9 { throw fail("token id too large") }
            }
            guard i > start else { throw fail("expected a non-negative integer token id") }
            if i < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[i]) {
                throw fail("expected an integer token id")
            }
            return value
        }

        /// The string after its opening quote, up to and including the closing quote.
        mutating func parseStringBody() throws -> String {
            let start = i
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                    i += 1
                    return s
                }
                if b == UInt8(ascii: "\\") { break }
                if b < 0x20 { throw fail("control character inside a string") }
                i += 1
            }
            // Slow path: the string has escapes.
            var utf8 = Array(bytes[start..<i])
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    i += 1
                    return String(decoding: utf8, as: UTF8.self)
                }
                if b < 0x20 { throw fail("control character inside a string") }
                if b != UInt8(ascii: "\\") {
                    utf8.append(b)
                    i += 1
                    continue
                }
                i += 1
                guard i < bytes.count else { break }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(e)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try parseHex4()
                    if (0xD800..<0xDC00).contains(code) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired surrogate in \\u escape")
                        }
                        i += 2
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in \\u escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(code) {
                        throw fail("unpaired surrogate in \\u escape")
                    }
                    utf8.append(contentsOf: String(Unicode.Scalar(code)!).utf8)
                default:
                    i -= 1
                    throw fail("invalid escape in a string")
                }
            }
            throw fail("unterminated string")
        }

        mutating func parseHex4() throws -> UInt32 {
            guard i + 4 <= bytes.count else { throw fail("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[i]
                let d: UInt32
                switch b {
                case 0x30...0x39: d = UInt32(b - 0x30)
                case 0x41...0x46: d = UInt32(b - 0x41 + 10)
                case 0x61...0x66: d = UInt32(b - 0x61 + 10)
                default: throw fail("invalid hex digit in \\u escape")
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }
    }
}
