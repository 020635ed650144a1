import JSONText

/// A strict JSON reader (RFC 8259) for input whose keys matter: unlike JSONSerialization and
/// JSONDecoder, which silently keep one of two equal keys, it refuses an object that names a
/// key twice (a safetensors header naming a tensor twice is ambiguous: which data is it?).
///
/// Also bounded: nesting deeper than `maxDepth` is refused rather than recursed into, and
/// every failure names the byte offset where the document goes wrong.
enum StrictJSON {
    static let maxDepth = 128

    struct Failure: Error, Equatable {
        let message: String
        /// Byte offset in the document.
        let offset: Int
        /// For a duplicate key: the key, and the keys/indices of the object holding it.
        var duplicateKey: String? = nil
        var path: [String] = []

        /// "key 'a.b' appears twice" or "... (at byte N)".
        var description: String {
            if let duplicateKey {
                return "key '\(Self.join(path + [duplicateKey]))' appears twice"
            }
            return "\(message) (at byte \(offset))"
        }

        static func join(_ path: [String]) -> String {
            var result = ""
            for part in path {
                if part.hasPrefix("[") { result += part } else { result += (result.isEmpty ? "" : ".") + part }
            }
            return result
        }
    }

    /// Parses exactly one JSON document (surrounding whitespace allowed).
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        var parser = Parser(bytes: bytes)
        // A UTF-8 byte order mark (editors on Windows write one) is tolerated, as JSONDecoder does.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { parser.i = 3 }
        parser.skipSpace()
        guard parser.i < bytes.count else { throw parser.fail("empty document, expected a JSON value") }
        let value = try parser.value(depth: 0, path: [])
        parser.skipSpace()
        guard parser.i == bytes.count else { throw parser.fail("unexpected content after the JSON value") }
        return value
    }

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBytes { try parse($0) }
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var i = 0

        func fail(_ message: String) -> Failure { Failure(message: message, offset: i) }

        mutating func skipSpace() {
            while i < bytes.count {
                switch bytes[i] {
                case 0x20, 0x09, 0x0A, 0x0D: i += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int, path: [String]) throws -> JSONValue {
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end of data, expected a value") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                guard depth < StrictJSON.maxDepth else { throw fail("nested deeper than \(StrictJSON.maxDepth) levels") }
                return try object(depth: depth + 1, path: path)
            case UInt8(ascii: "["):
                guard depth < StrictJSON.maxDepth else { throw fail("nested deeper than \(StrictJSON.maxDepth) levels") }
                return try array(depth: depth + 1, path: path)
            case UInt8(ascii: "\""):
                i += 1
                return .string(try stringBody())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return try number()
            default:
                throw fail("unexpected character, expected a value")
            }
        }

        mutating func literal(_ word: String) throws {
            for byte in word.utf8 {
                guard i < bytes.count, bytes[i] == byte else { throw fail("invalid literal, expected '\(word)'") }
                i += 1
            }
        }

        mutating func object(depth: Int, path: [String]) throws -> JSONValue {
            i += 1   // {
            var result: [String: JSONValue] = [:]
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                i += 1
                return .object(result)
            }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected '\"' starting a key") }
                let keyOffset = i
                i += 1
                let key = try stringBody()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
                i += 1
                let element = try value(depth: depth, path: path + [key])
                if result.updateValue(element, forKey: key) != nil {
                    throw Failure(message: "duplicate key", offset: keyOffset, duplicateKey: key, path: path)
                }
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end of data, expected ',' or '}'") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(result) }
                throw fail("expected ',' or '}'")
            }
        }

        mutating func array(depth: Int, path: [String]) throws -> JSONValue {
            i += 1   // [
            var result: [JSONValue] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                i += 1
                return .array(result)
            }
            while true {
                result.append(try value(depth: depth, path: path + ["[\(result.count)]"]))
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end of data, expected ',' or ']'") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(result) }
                throw fail("expected ',' or ']'")
            }
        }

        func isDigit(_ index: Int) -> Bool {
            index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")
        }

        mutating func number() throws -> JSONValue {
            let start = i
            var integral = true
            if bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { throw fail("expected a digit") }
            if bytes[i] == UInt8(ascii: "0") {
                i += 1
                if isDigit(i) { throw fail("leading zero in a number") }
            } else {
                while isDigit(i) { i += 1 }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                integral = false
                i += 1
                guard isDigit(i) else { throw fail("expected a digit after '.'") }
                while isDigit(i) { i += 1 }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                integral = false
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard isDigit(i) else { throw fail("expected a digit in the exponent") }
                while isDigit(i) { i += 1 }
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            if integral, let value = Int(text) { return .integer(value) }
            guard let value = Double(text), value.isFinite else { throw Failure(message: "number out of range", offset: start) }
            return .number(value)
        }

        /// The string after its opening quote, up to and including the closing quote.
        mutating func stringBody() throws -> String {
            do {
                return try JSONStringBody.read(bytes, at: &i)
            } catch {
                throw Failure(message: error.message, offset: error.offset)
            }
        }
    }
}
