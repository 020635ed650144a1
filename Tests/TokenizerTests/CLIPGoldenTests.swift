import XCTest
import Tokenizer

/// `.clip` cleaning (the default) against OpenAI CLIP's tokenizer with the real ftfy (open_clip's
/// SimpleTokenizer; with OpenAI's special-token names for the ids), on every golden string but
/// the one listed below.
final class CLIPGoldenTests: XCTestCase {
    let golden = Golden.shared
    let tokenizer = SharedTokenizers.clip

    /// Golden strings where this tokenizer does not give OpenAI CLIP's ids, and why.
    static let notLikeOpenAICLIP: [String: String] = [
        // ftfy.fix_encoding detects and repairs mojibake ("â€™" -> "’" -> "'") with statistical
        // heuristics over many legacy encodings; that part of ftfy is not reproduced.
        "mojibake": "ftfy's mojibake repair is not reproduced",
    ]

    /// open_clip renamed the special tokens to <start_of_text>/<end_of_text>, so it BPE-encodes
    /// "<|endoftext|>" written in a text as ordinary characters; OpenAI's tokenizer (and this one)
    /// give the special ids. Only the "openai_clip" ids apply to these strings. ("<|ſtartoftext|>" in
    /// ignorecase_quirks matches OpenAI's pattern as one piece, which is then BPE-encoded.)
    static let specialTokenStrings: Set<String> = [
        "special_tokens_text", "special_tokens_spaced", "special_tokens_caps", "ignorecase_quirks",
    ]

    private var comparable: [Golden.Case] {
        golden.cases.filter { Self.notLikeOpenAICLIP[$0.name] == nil }
    }

    func testDefaultsAreSD15() throws {
        let tokenizer = try CLIPTokenizer(folder: Golden.folder)
        XCTAssertEqual(tokenizer.cleaning, .clip)
        XCTAssertEqual(tokenizer.padID, 49_407)
        XCTAssertEqual(tokenizer.bosID, 49_406)
        XCTAssertEqual(tokenizer.eosID, 49_407)
    }

    func testExclusionsAreReal() {
        for name in Self.notLikeOpenAICLIP.keys.sorted() {
            let c = Golden.testCase(name)
            let ids = [tokenizer.bosID] + tokenizer.encode(c.text) + [tokenizer.eosID]
            XCTAssertNotEqual(ids, c.openAICLIP.ids, "case \(name) is excluded but now matches")
        }
        for name in Self.specialTokenStrings {
            let c = Golden.testCase(name)
            XCTAssertNotEqual(c.openCLIP.ids, c.openAICLIP.ids, "case \(name)")
        }
    }

    func testUnpaddedIDs() {
        for c in comparable {
            let ids = [tokenizer.bosID] + tokenizer.encode(c.text) + [tokenizer.eosID]
            XCTAssertEqual(ids, c.openAICLIP.ids, "case \(c.name)")
        }
    }

    /// The clean-up does not depend on the special-token names, so every string is compared.
    func testCleanText() {
        for c in comparable {
            XCTAssertEqual(tokenizer.clean(c.text), c.openCLIP.clean, "case \(c.name)")
        }
    }

    /// open_clip pads with 0: the pad-id choice reproduces its tensors exactly.
    func testZeroPaddedIDs() {
        for c in comparable where !Self.specialTokenStrings.contains(c.name) {
            XCTAssertEqual(tokenizer.tokenize(c.text, padID: golden.openCLIPPad), c.openCLIP.inputIDs, "case \(c.name)")
        }
    }

    /// Where the references agree, the default (EOS-padded) output is transformers'.
    func testEOSPaddedIDsWhereReferencesAgree() {
        let agreeing = comparable.filter { $0.agree && !Self.specialTokenStrings.contains($0.name) }
        XCTAssertGreaterThan(agreeing.count, 50)
        for c in agreeing {
            XCTAssertEqual(tokenizer.tokenize(c.text), c.transformers.inputIDs, "case \(c.name)")
        }
    }

    /// Special-token strings in the text become the special ids (OpenAI CLIP's behaviour; for the
    /// exact lower-case strings transformers agrees).
    func testSpecialTokenStrings() throws {
        for name in ["special_tokens_text", "special_tokens_spaced"] {
            let c = Golden.testCase(name)
            let ids = [tokenizer.bosID] + tokenizer.encode(c.text) + [tokenizer.eosID]
            XCTAssertEqual(ids, c.transformers.ids, "case \(name)")
        }
        let and = try XCTUnwrap(tokenizer.id(ofToken: "and</w>"))
        // Lower-cased first, so any case works: "<|ENDOFTEXT|> and <|StartOfText|>".
        XCTAssertEqual(tokenizer.encode(Golden.testCase("special_tokens_caps").text), [49_407, and, 49_406])
    }

    func testTruncationKeepsEOSLast() {
        let c = Golden.testCase("long_prompt")
        let ids = tokenizer.tokenize(c.text)
        XCTAssertEqual(ids.count, 77)
        XCTAssertEqual(ids.first, 49_406)
        XCTAssertEqual(ids.last, 49_407)
        XCTAssertGreaterThan(tokenizer.encode(c.text).count, 75)

        let exact = tokenizer.tokenize(Golden.testCase("exactly_75_tokens").text)
        XCTAssertEqual(exact.filter { $0 == 2368 }.count, 75)
        let over = tokenizer.tokenize(Golden.testCase("exactly_76_tokens").text)
        XCTAssertEqual(over.filter { $0 == 2368 }.count, 75)
        XCTAssertEqual(over.last, 49_407)
    }

    func testOtherLengthsAndPadding() {
        let ids = tokenizer.tokenize("a photo of a cat", length: 10, padID: 0)
        XCTAssertEqual(ids, [49_406, 320, 1125, 539, 320, 2368, 49_407, 0, 0, 0])
        XCTAssertEqual(tokenizer.tokenize("a photo of a cat", length: 4), [49_406, 320, 1125, 49_407])
        XCTAssertEqual(tokenizer.tokenize("", length: 2), [49_406, 49_407])
        let sd2 = try? CLIPTokenizer(folder: Golden.folder, padID: 0)
        XCTAssertEqual(sd2?.tokenize("a cat", length: 6), [49_406, 320, 2368, 49_407, 0, 0])
    }
}
