import Foundation
import XCTest
import Tokenizer

/// Random texts from `make_tokenizer_fixtures.py --fuzz N --out DIR`, checked only when
/// `CLIP_TOKENIZER_FUZZ=DIR/tokenizer_fuzz.json` is set (the file is not committed).
final class FuzzTests: XCTestCase {
    struct Fuzz: Decodable {
        struct Case: Decodable {
            let name: String
            let text: String
            let ftfy_fix_encoding: Bool
            let transformers_ids: [Int]
            let open_clip_ids: [Int]
            let openai_clip_ids: [Int]
            let open_clip_clean: String
        }
        let cases: [Case]
    }

    private func load() throws -> Fuzz {
        guard let path = ProcessInfo.processInfo.environment["CLIP_TOKENIZER_FUZZ"] else {
            throw XCTSkip("set CLIP_TOKENIZER_FUZZ to a tokenizer_fuzz.json to run")
        }
        return try JSONDecoder().decode(Fuzz.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func testTransformersCleaning() throws {
        let fuzz = try load()
        let tokenizer = SharedTokenizers.transformers
        var failures = 0
        for c in fuzz.cases {
            let ids = [tokenizer.bosID] + tokenizer.encode(c.text) + [tokenizer.eosID]
            if ids != c.transformers_ids {
                failures += 1
                if failures <= 10 { XCTFail("\(c.name) \(c.text.debugDescription): \(ids) != \(c.transformers_ids)") }
            }
        }
        print("fuzz transformers: \(fuzz.cases.count - failures)/\(fuzz.cases.count) match")
        XCTAssertEqual(failures, 0)
    }

    func testCLIPCleaning() throws {
        let fuzz = try load()
        let tokenizer = SharedTokenizers.clip
        var failures = 0
        var compared = 0
        for c in fuzz.cases where !c.ftfy_fix_encoding {
            compared += 1
            let ids = [tokenizer.bosID] + tokenizer.encode(c.text) + [tokenizer.eosID]
            if ids != c.openai_clip_ids || tokenizer.clean(c.text) != c.open_clip_clean {
                failures += 1
                if failures <= 10 {
                    XCTFail("\(c.name) \(c.text.debugDescription): clean \(tokenizer.clean(c.text).debugDescription) vs \(c.open_clip_clean.debugDescription), ids \(ids) vs \(c.openai_clip_ids)")
                }
            }
        }
        print("fuzz clip: \(compared - failures)/\(compared) match (\(fuzz.cases.count - compared) skipped: ftfy's mojibake repair changes them)")
        XCTAssertEqual(failures, 0)
    }
}
