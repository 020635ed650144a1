import XCTest
import TestSupport
import Tokenizer

/// Missing and malformed files: the error is one line and names the file.
final class LoadingErrorTests: XCTestCase {
    var folder: URL!

    override func setUp() {
        folder = Fixtures.temporaryDirectory("tokenizer-tests")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    private var vocabURL: URL { folder.appendingPathComponent("vocab.json") }
    private var mergesURL: URL { folder.appendingPathComponent("merges.txt") }

    private func write(_ text: String, to url: URL) {
        XCTAssertNoThrow(try Data(text.utf8).write(to: url))
    }

    private func copyFixture(_ name: String) {
        XCTAssertNoThrow(try FileManager.default.copyItem(
            at: Golden.folder.appendingPathComponent(name), to: folder.appendingPathComponent(name)))
    }

    /// Loads `folder` expecting an error whose message names `file` and contains `fragment`.
    private func assertLoadFails(naming file: String, containing fragment: String,
                                 file sourceFile: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try CLIPTokenizer(folder: folder)
            XCTFail("loading succeeded", file: sourceFile, line: line)
        } catch let error as TokenizerError {
            let message = error.description
            XCTAssertTrue(message.contains(folder.appendingPathComponent(file).path), "\(message)", file: sourceFile, line: line)
            XCTAssertTrue(message.contains(fragment), "\(message)", file: sourceFile, line: line)
            XCTAssertFalse(message.contains("\n"), "\(message)", file: sourceFile, line: line)
            XCTAssertEqual(error.localizedDescription, message, file: sourceFile, line: line)
        } catch {
            XCTFail("unexpected error type: \(error)", file: sourceFile, line: line)
        }
    }

    func testMissingFolder() {
        try? FileManager.default.removeItem(at: folder)
        assertLoadFails(naming: "vocab.json", containing: "not found")
    }

    func testMissingVocab() {
        copyFixture("merges.txt")
        assertLoadFails(naming: "vocab.json", containing: "tokenizer file not found")
    }

    func testMissingMerges() {
        copyFixture("vocab.json")
        assertLoadFails(naming: "merges.txt", containing: "tokenizer file not found")
    }

    func testVocabIsADirectory() {
        XCTAssertNoThrow(try FileManager.default.createDirectory(at: vocabURL, withIntermediateDirectories: false))
        copyFixture("merges.txt")
        assertLoadFails(naming: "vocab.json", containing: "directory")
    }

    func testMalformedVocabJSON() {
        copyFixture("merges.txt")
        let cases: [(String, String)] = [
            ("", "empty file"),
            ("not json", "expected '{'"),
            ("[1, 2]", "expected '{'"),
            ("{\"a\": 1, \"b\": 2", "unexpected end of file"),
            ("{\"a\": 1 \"b\": 2}", "expected ',' or '}'"),
            ("{\"a\" 1}", "expected ':'"),
            ("{\"a\": 1.5}", "integer"),
            ("{\"a\": -1}", "non-negative integer"),
            ("{\"a\": \"x\"}", "non-negative integer"),
            ("{\"a\": 1}}", "after the JSON object"),
            ("{\"a\\q\": 1}", "invalid escape"),
            ("{\"\\ud800\": 1}", "surrogate"),
            ("{\"abc", "unterminated string"),
            ("{\"a\": 1}", "the token \"<|startoftext|>\" is missing"),
        ]
        for (content, fragment) in cases {
            write(content, to: vocabURL)
            assertLoadFails(naming: "vocab.json", containing: fragment)
        }
    }

    /// A token that is not UTF-8 is refused (it was read with U+FFFD in its place, so two bad
    /// tokens became the same key), by the JSON string reader StrictJSON uses too.
    func testVocabTokenThatIsNotUTF8() {
        copyFixture("merges.txt")
        XCTAssertNoThrow(try Data([UInt8(ascii: "{"), UInt8(ascii: "\""), 0x61, 0xC3, UInt8(ascii: "\""), UInt8(ascii: ":"), UInt8(ascii: "1"),
                                   UInt8(ascii: "}")]).write(to: vocabURL))
        assertLoadFails(naming: "vocab.json", containing: "invalid UTF-8 in a string at byte 2")
    }

    func testErrorGivesTheByteOffset() {
        copyFixture("merges.txt")
        write("{\"a\": 1,\n \"b\" 2}", to: vocabURL)
        assertLoadFails(naming: "vocab.json", containing: "at byte 14")
    }

    func testVocabWithoutSpecialTokens() throws {
        let mini = MiniVocabulary()
        write(mini.json(dropping: "<|endoftext|>"), to: vocabURL)
        write(mini.merges, to: mergesURL)
        assertLoadFails(naming: "vocab.json", containing: "the token \"<|endoftext|>\" is missing")
    }

    func testVocabWithoutAByteToken() throws {
        let mini = MiniVocabulary()
        write(mini.json(dropping: "\u{100}</w>"), to: vocabURL)
        write(mini.merges, to: mergesURL)
        assertLoadFails(naming: "vocab.json", containing: "the byte-level token \"\u{100}</w>\" (byte 0) is missing")
    }

    func testMalformedMerges() {
        copyFixture("vocab.json")
        let cases: [(String, String)] = [
            ("", "no merges"),
            ("#version: 0.2\n", "no merges"),
            ("#version: 0.2\ni n\nt h e\n", "line 3: expected two symbols"),
            ("i n\nthe\n", "line 2: expected two symbols"),
            ("i  n\n", "line 1: expected two symbols"),
            ("#version: 0.2\ni n\nq\u{2603} z\n", "line 3: token \"q\u{2603}\" is not in vocab.json"),
        ]
        for (content, fragment) in cases {
            write(content, to: mergesURL)
            assertLoadFails(naming: "merges.txt", containing: fragment)
        }
    }

    /// CRLF line endings, no "#version" line, \u escapes and a BOM in vocab.json are accepted.
    func testTolerantFormats() throws {
        let mini = MiniVocabulary()
        write("\u{FEFF}" + mini.json(escapingNonASCII: true), to: vocabURL)
        write(mini.merges.replacingOccurrences(of: "\n", with: "\r\n").replacingOccurrences(of: "#version: 0.2\r\n", with: ""),
              to: mergesURL)
        let tokenizer = try CLIPTokenizer(folder: folder)
        XCTAssertEqual(tokenizer.vocabularySize, mini.vocabulary.count)
        XCTAssertEqual(tokenizer.mergeCount, 3)
        XCTAssertEqual(tokenizer.encode("cat Ünï"), [mini.vocabulary["cat</w>"]!] + mini.byteIDs("ünï"))
        XCTAssertEqual(tokenizer.tokenize("cat", length: 4), [tokenizer.bosID, mini.vocabulary["cat</w>"]!, tokenizer.eosID, tokenizer.eosID])
    }
}

/// A small CLIP-shaped vocabulary: the 512 byte tokens, three merges ("c a", "ca t</w>",
/// "ĠĠ" for two spaces), and the special tokens.
struct MiniVocabulary {
    let tokens: [String]
    let vocabulary: [String: Int]
    let merges = "#version: 0.2\nc a\nca t</w>\n\u{100} \u{100}\n"
    let byteChars: [UInt8: String]

    init() {
        var printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var codes = printable
        var next = 0
        for b in 0..<256 where !printable.contains(b) {
            printable.append(b)
            codes.append(256 + next)
            next += 1
        }
        let chars = codes.map { String(Unicode.Scalar(UInt32($0))!) }
        var byteChars: [UInt8: String] = [:]
        for (b, c) in zip(printable, chars) { byteChars[UInt8(b)] = c }
        tokens = chars + chars.map { $0 + "</w>" } + ["ca", "cat</w>", "\u{100}\u{100}", "<|startoftext|>", "<|endoftext|>"]
        var vocabulary: [String: Int] = [:]
        for (i, t) in tokens.enumerated() { vocabulary[t] = i }
        self.vocabulary = vocabulary
        self.byteChars = byteChars
    }

    /// The ids of a word that no merge applies to: one token per UTF-8 byte, the last with </w>.
    func byteIDs(_ word: String) -> [Int] {
        let bytes = Array(word.utf8)
        return bytes.enumerated().map { i, b in
            vocabulary[byteChars[b]! + (i == bytes.count - 1 ? "</w>" : "")]!
        }
    }

    func json(escapingNonASCII: Bool = false, dropping dropped: String? = nil) -> String {
        var parts: [String] = []
        for (i, t) in tokens.enumerated() where t != dropped {
            var key = ""
            for s in t.unicodeScalars {
                switch s {
                case "\"": key += "\\\""
                case "\\": key += "\\\\"
                default:
                    if escapingNonASCII && s.value >= 0x80 {
                        key += String(format: "\\u%04x", s.value)
                    } else {
                        key.unicodeScalars.append(s)
                    }
                }
            }
            parts.append("\"\(key)\": \(i)")
        }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}
