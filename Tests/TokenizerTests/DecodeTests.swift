import XCTest
import Tokenizer

final class DecodeTests: XCTestCase {
    let tokenizer = SharedTokenizers.clip

    func testRoundTrip() {
        XCTAssertEqual(tokenizer.decode(tokenizer.tokenize("A photo of a CAT")), "a photo of a cat")
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("café 東京 🐱")), "café 東京 🐱")
        XCTAssertEqual(tokenizer.decode([]), "")
    }

    func testSpecialTokensKept() {
        let ids = tokenizer.tokenize("a cat", length: 6)
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: false),
                       "<|startoftext|>a cat <|endoftext|><|endoftext|><|endoftext|>")
    }

    func testUnknownIDsAreSkipped() {
        XCTAssertEqual(tokenizer.decode([320, -1, 99_999_999, 2368]), "a cat")
    }

    func testVocabularyLookups() {
        XCTAssertEqual(tokenizer.id(ofToken: "cat</w>"), 2368)
        XCTAssertEqual(tokenizer.token(ofID: 2368), "cat</w>")
        XCTAssertEqual(tokenizer.token(ofID: 49_406), "<|startoftext|>")
        XCTAssertEqual(tokenizer.token(ofID: 49_407), "<|endoftext|>")
        XCTAssertNil(tokenizer.token(ofID: 49_408))
        XCTAssertNil(tokenizer.token(ofID: -1))
        XCTAssertNil(tokenizer.id(ofToken: "not a token"))
        // The first 256 entries are the byte characters, in bytes_to_unicode order.
        XCTAssertEqual(tokenizer.token(ofID: 0), "!")
        XCTAssertEqual(tokenizer.token(ofID: 188), "\u{100}")
        XCTAssertEqual(tokenizer.token(ofID: 256), "!</w>")
    }

    func testInvalidUTF8BecomesReplacementCharacter() throws {
        // "é" is two bytes; its first byte alone is not valid UTF-8.
        let firstByte = try XCTUnwrap(tokenizer.id(ofToken: "Ã"))
        XCTAssertEqual(tokenizer.decode([firstByte]), "\u{FFFD}")
    }
}
