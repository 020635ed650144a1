import XCTest
import Tokenizer

final class PlaceholderTests: XCTestCase {
    let tokenizer = SharedTokenizers.clip

    func testPlaceholderIDs() throws {
        let s = try XCTUnwrap(tokenizer.id(ofToken: "s</w>"))
        let star = try XCTUnwrap(tokenizer.id(ofToken: "*</w>"))
        XCTAssertEqual(tokenizer.ids(of: "S*"), [s, star])
        XCTAssertEqual(tokenizer.ids(of: "s*"), [s, star])
        XCTAssertEqual([s, star], [338, 265])
    }

    func testPositionsInGoldenPrompt() {
        let ids = Golden.testCase("placeholder").transformers.inputIDs
        XCTAssertEqual(tokenizer.positions(of: "S*", in: ids), [4])
        XCTAssertEqual(Array(ids[4..<6]), tokenizer.ids(of: "S*"))
        XCTAssertEqual(tokenizer.positions(of: "S*", in: tokenizer.tokenize("a photo of S* on the moon")), [4])
    }

    func testSeveralOccurrences() {
        XCTAssertEqual(tokenizer.positions(of: "S*", in: tokenizer.tokenize("S* and S* at the beach")), [1, 4])
        XCTAssertEqual(tokenizer.positions(of: "S*", in: tokenizer.tokenize("S* wearing a red hat")), [1])
        XCTAssertEqual(tokenizer.positions(of: "S*", in: tokenizer.tokenize("a painting of S*")), [4])
    }

    func testTruncatedOccurrenceIsNotReported() {
        let ids = tokenizer.tokenize(Golden.testCase("long_placeholder").text)
        XCTAssertEqual(tokenizer.positions(of: "S*", in: ids), [4])
        let all = [tokenizer.bosID] + tokenizer.encode(Golden.testCase("long_placeholder").text)
        XCTAssertEqual(tokenizer.positions(of: "S*", in: all).count, 2)
    }

    /// CLIP glues runs of punctuation: "S*," is [s, "*,"], so the placeholder is not there.
    func testPunctuationGluedToPlaceholder() {
        XCTAssertEqual(tokenizer.positions(of: "S*", in: tokenizer.tokenize("a photo of S*, smiling")), [])
        XCTAssertEqual(tokenizer.positions(of: "S*", in: tokenizer.tokenize("a photo of S* , smiling")), [4])
    }

    func testWordPlaceholder() throws {
        let sks = tokenizer.ids(of: "sks")
        XCTAssertFalse(sks.isEmpty)
        let ids = tokenizer.tokenize("a photo of sks person")
        XCTAssertEqual(tokenizer.positions(of: "sks", in: ids), [4])
        XCTAssertEqual(tokenizer.positions(of: "", in: ids), [])
        XCTAssertEqual(tokenizer.positions(of: "dragon", in: ids), [])
    }

    func testTransformersCleaningFindsTheSamePositions() {
        let t = SharedTokenizers.transformers
        XCTAssertEqual(t.ids(of: "S*"), tokenizer.ids(of: "S*"))
        XCTAssertEqual(t.positions(of: "S*", in: t.tokenize("S* and S* at the beach")), [1, 4])
    }
}
