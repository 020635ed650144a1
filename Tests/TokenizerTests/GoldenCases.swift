import Foundation
import TestSupport
import Tokenizer

/// `Tests/Fixtures/clip-tokenizer/tokenizer_golden.json`, written by
/// `training/fixtures/make_tokenizer_fixtures.py`.
struct Golden: Decodable {
    struct TransformersResult: Decodable {
        /// tok(text, padding="max_length", max_length=77, truncation=True).input_ids (EOS-padded).
        let inputIDs: [Int]
        /// tok(text).input_ids: BOS, ids, EOS, no truncation.
        let ids: [Int]
        /// tok.decode(ids, skip_special_tokens=True)
        let decoded: String
        /// The backend normalizer's output.
        let normalized: String

        enum CodingKeys: String, CodingKey {
            case inputIDs = "input_ids", ids, decoded, normalized
        }
    }

    struct OpenCLIPResult: Decodable {
        /// open_clip's tokenize(): 77 ids padded with 0.
        let inputIDs: [Int]
        /// [BOS] + encode(text) + [EOS], no truncation.
        let ids: [Int]
        /// whitespace_clean(basic_clean(text)).lower()
        let clean: String

        enum CodingKeys: String, CodingKey {
            case inputIDs = "input_ids", ids, clean
        }
    }

    struct OpenAICLIPResult: Decodable {
        /// [BOS] + encode(text) + [EOS] from open_clip's SimpleTokenizer with OpenAI's special-token
        /// names restored: "<|endoftext|>" in a text is the special id, as in openai/CLIP.
        let ids: [Int]
    }

    struct Case: Decodable {
        let name: String
        let text: String
        /// Whether the two references give the same ids.
        let agree: Bool
        let difference: String?
        let transformers: TransformersResult
        let openCLIP: OpenCLIPResult
        let openAICLIP: OpenAICLIPResult

        enum CodingKeys: String, CodingKey {
            case name, text, agree, difference, transformers
            case openCLIP = "open_clip"
            case openAICLIP = "openai_clip"
        }
    }

    let contextLength: Int
    let bos: Int
    let eos: Int
    let transformersPad: Int
    let openCLIPPad: Int
    let cases: [Case]

    enum CodingKeys: String, CodingKey {
        case contextLength = "context_length", bos, eos, cases
        case transformersPad = "transformers_pad"
        case openCLIPPad = "open_clip_pad"
    }

    static let folder = Fixtures.url("clip-tokenizer")

    static let shared: Golden = {
        let url = Fixtures.url("clip-tokenizer/tokenizer_golden.json")
        do {
            return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path): \(error)")
        }
    }()

    static func testCase(_ name: String) -> Case {
        guard let found = shared.cases.first(where: { $0.name == name }) else {
            fatalError("no golden case named \(name)")
        }
        return found
    }
}

/// Tokenizers loaded once from the fixture folder.
enum SharedTokenizers {
    static let clip: CLIPTokenizer = load(.clip)
    static let transformers: CLIPTokenizer = load(.transformers)

    private static func load(_ cleaning: TextCleaning) -> CLIPTokenizer {
        do {
            return try CLIPTokenizer(folder: Golden.folder, cleaning: cleaning)
        } catch {
            fatalError("cannot load the fixture tokenizer: \(error)")
        }
    }
}
