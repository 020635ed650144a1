import Foundation
import JSONText
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
            do {
                return try JSONStringBody.read(UnsafeRawBufferPointer(bytes), at: &i)
            } catch {
                throw Failure(message: error.message, offset: error.offset)
            }
        }
    }
}
