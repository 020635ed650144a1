import XCTest
import Tokenizer

/// `.transformers` cleaning against transformers.CLIPTokenizer 5.x, on every golden string.
final class TransformersGoldenTests: XCTestCase {
    let golden = Golden.shared
    let tokenizer = SharedTokenizers.transformers

    func testFixtureConstants() {
        XCTAssertEqual(golden.contextLength, CLIPTokenizer.defaultLength)
        XCTAssertEqual(tokenizer.bosID, golden.bos)
        XCTAssertEqual(tokenizer.eosID, golden.eos)
        XCTAssertEqual(tokenizer.padID, golden.transformersPad)
        XCTAssertEqual(tokenizer.vocabularySize, 49_408)
        XCTAssertEqual(tokenizer.mergeCount, 48_894)
        XCTAssertGreaterThanOrEqual(golden.cases.count, 90)
    }

    func testPaddedIDs() {
        for c in golden.cases {
            XCTAssertEqual(tokenizer.tokenize(c.text), c.transformers.inputIDs, "case \(c.name)")
        }
    }

    func testUnpaddedIDs() {
        for c in golden.cases {
            let ids = [tokenizer.bosID] + tokenizer.encode(c.text) + [tokenizer.eosID]
            XCTAssertEqual(ids, c.transformers.ids, "case \(c.name)")
        }
    }

    func testNormalizedText() {
        for c in golden.cases {
            XCTAssertEqual(tokenizer.clean(c.text), c.transformers.normalized, "case \(c.name)")
        }
    }

    func testDecode() {
        for c in golden.cases {
            XCTAssertEqual(tokenizer.decode(c.transformers.ids), c.transformers.decoded, "case \(c.name)")
        }
    }
}
