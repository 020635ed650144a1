import Foundation

/// CLIP's byte-level BPE tokenizer, as used by Stable Diffusion 1.x, loaded from the
/// `vocab.json` + `merges.txt` of a diffusers `tokenizer/` folder.
///
///     let tokenizer = try CLIPTokenizer(folder: modelFolder.appendingPathComponent("tokenizer"))
///     let ids = tokenizer.tokenize("a photo of S* on the moon")     // 77 ids: BOS ... EOS, EOS...
///     let found = tokenizer.positions(of: "S*", in: ids)            // [4]
///
/// Thread-safe: the only mutable state is the per-word BPE cache, behind a lock.
public final class CLIPTokenizer: @unchecked Sendable {
    /// SD 1.x's context length.
    public static let defaultLength = 77
    /// Token ids must lie below this (CLIP's largest is 49,407): the id table has one slot per id.
    public static let maxTokenID = 1 << 20

    /// `<|startoftext|>` (49406 in CLIP's vocabulary).
    public let bosID: Int
    /// `<|endoftext|>` (49407 in CLIP's vocabulary).
    public let eosID: Int
    /// What `tokenize` pads with unless told otherwise: `<|endoftext|>` by default, as SD 1.x's
    /// tokenizer (and transformers' CLIPTokenizer) does. SD 2.x's tokenizer pads with "!" (id 0).
    public let padID: Int
    /// The text clean-up in use.
    public let cleaning: TextCleaning
    /// Number of entries in the vocabulary (49,408 for CLIP).
    public let vocabularySize: Int
    /// The largest id in the vocabulary (49,407 for CLIP): a text encoder's vocab_size must exceed it.
    public var largestID: Int { tokenByID.count - 1 }
    /// Number of merges (48,894 for CLIP).
    public var mergeCount: Int { bpe.mergeCount }

    private let tokenByID: [String?]
    private let idByToken: [String: Int]
    private let bpe: BytePairEncoder

    /// Loads `vocab.json` and `merges.txt` from `folder`.
    /// - Parameters:
    ///   - cleaning: `.clip` (OpenAI CLIP's clean-up, the default) or `.transformers`.
    ///   - padID: the padding id for `tokenize`; nil means `<|endoftext|>`.
    /// - Throws: `TokenizerError`, whose one-line message names the missing or malformed file.
    public convenience init(folder: URL, cleaning: TextCleaning = .clip, padID: Int? = nil) throws {
        try self.init(vocabURL: folder.appendingPathComponent("vocab.json"),
                      mergesURL: folder.appendingPathComponent("merges.txt"),
                      cleaning: cleaning, padID: padID)
    }

    public init(vocabURL: URL, mergesURL: URL, cleaning: TextCleaning = .clip, padID: Int? = nil) throws {
        let vocabulary = try VocabularyFile.load(vocabURL)
        let merges = try MergesFile.load(mergesURL)
        guard let bos = vocabulary["<|startoftext|>"] else {
            throw TokenizerError.malformedFile(vocabURL, reason: "the token \"<|startoftext|>\" is missing")
        }
        guard let eos = vocabulary["<|endoftext|>"] else {
            throw TokenizerError.malformedFile(vocabURL, reason: "the token \"<|endoftext|>\" is missing")
        }
        let maxID = vocabulary.values.max() ?? 0
        guard maxID < Self.maxTokenID else {
            throw TokenizerError.malformedFile(vocabURL, reason: "token id \(maxID) is implausibly large (ids must be below \(Self.maxTokenID))")
        }
        var tokens = [String?](repeating: nil, count: maxID + 1)
        for (token, id) in vocabulary { tokens[id] = token }
        bpe = try BytePairEncoder(vocabulary: vocabulary, merges: merges, vocabURL: vocabURL, mergesURL: mergesURL)
        tokenByID = tokens
        idByToken = vocabulary
        vocabularySize = vocabulary.count
        bosID = bos
        eosID = eos
        self.padID = padID ?? eos
        self.cleaning = cleaning
    }

    // MARK: - Encoding

    /// The text as the BPE sees it after the clean-up (lower-cased, whitespace collapsed, ...).
    public func clean(_ text: String) -> String {
        let scalars: [Unicode.Scalar]
        switch cleaning {
        case .clip:
            scalars = CLIPTextCleaner.clean(text)
        case .transformers:
            scalars = TransformersNormalizer.normalize(Array(text.unicodeScalars))
        }
        return String(scalars: scalars)
    }

    /// The token ids of `text`, without `<|startoftext|>` / `<|endoftext|>` around them and
    /// without any length limit.
    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        switch cleaning {
        case .clip:
            appendPieces(of: CLIPTextCleaner.clean(text), openAI: true, to: &ids)
        case .transformers:
            for segment in TransformersNormalizer.splitSpecialTokens(Array(text.unicodeScalars)) {
                switch segment {
                case .special(let k):
                    ids.append(k == 0 ? bosID : eosID)
                case .text(let raw):
                    appendPieces(of: TransformersNormalizer.normalize(raw), openAI: false, to: &ids)
                }
            }
        }
        return ids
    }

    /// `openAI`: OpenAI CLIP's split (with its IGNORECASE quirks) and special-token strings
    /// mapped to the special ids; otherwise transformers' split.
    private func appendPieces(of cleaned: [Unicode.Scalar], openAI: Bool, to ids: inout [Int]) {
        for piece in PreTokenizer.split(cleaned, pythonIgnoreCase: openAI) {
            let range = piece.range
            if piece.isSpecialTokenText {
                if openAI {
                    let special = cleaned[range]
                    if special.elementsEqual(PreTokenizer.specialTokenTexts[0]) {
                        ids.append(bosID)
                    } else if special.elementsEqual(PreTokenizer.specialTokenTexts[1]) {
                        ids.append(eosID)
                    } else {
                        // "<|ſtartoftext|>" matches the pattern but misses OpenAI's cache: plain BPE.
                        ids.append(contentsOf: bpe.encode(String(scalars: special)))
                    }
                    continue
                }
                // transformers: the ByteLevel pre-tokenizer's GPT-2 pattern splits the matched
                // "<|endoftext|>" again, into "<|", "endoftext", "|>".
                for part in [range.lowerBound..<(range.lowerBound + 2), (range.lowerBound + 2)..<(range.upperBound - 2),
                             (range.upperBound - 2)..<range.upperBound] {
                    ids.append(contentsOf: bpe.encode(String(scalars: cleaned[part])))
                }
                continue
            }
            ids.append(contentsOf: bpe.encode(String(scalars: cleaned[range])))
        }
    }

    /// `<|startoftext|>`, the ids of `text`, `<|endoftext|>`, then padding, exactly `length`
    /// ids: a long text is truncated so that `<|endoftext|>` stays last (as
    /// `tokenizer(text, padding="max_length", max_length=77, truncation=True)`).
    /// - Parameter padID: the padding id; nil means the tokenizer's `padID`.
    public func tokenize(_ text: String, length: Int = CLIPTokenizer.defaultLength, padID: Int? = nil) -> [Int] {
        precondition(length >= 2, "a CLIP token sequence needs room for <|startoftext|> and <|endoftext|>")
        let body = encode(text)
        var ids: [Int] = []
        ids.reserveCapacity(length)
        ids.append(bosID)
        ids.append(contentsOf: body.prefix(length - 2))
        ids.append(eosID)
        ids.append(contentsOf: repeatElement(padID ?? self.padID, count: length - ids.count))
        return ids
    }

    // MARK: - Placeholders

    /// The ids a word or phrase encodes to on its own, e.g. `["s</w>", "*</w>"]`'s ids for "S*".
    public func ids(of word: String) -> [Int] {
        encode(word)
    }

    /// Where `placeholder` occurs in `ids`: the index of the first token of each
    /// (non-overlapping) occurrence of `ids(of: placeholder)`, in order. Each occurrence spans
    /// `ids(of: placeholder).count` tokens. Empty if the placeholder encodes to nothing.
    ///
    /// The placeholder must stand as its own words in the prompt: CLIP's split pattern glues runs
    /// of punctuation together, so in "S*, smiling" the "*" and "," become the single token "*,"
    /// and "S*" is not found there; write "S* , smiling" (or pick a placeholder ending in a letter).
    public func positions(of placeholder: String, in ids: [Int]) -> [Int] {
        let needle = self.ids(of: placeholder)
        guard !needle.isEmpty, needle.count <= ids.count else { return [] }
        var found: [Int] = []
        var i = 0
        while i + needle.count <= ids.count {
            if ids[i..<(i + needle.count)].elementsEqual(needle) {
                found.append(i)
                i += needle.count
            } else {
                i += 1
            }
        }
        return found
    }

    // MARK: - Vocabulary and decoding

    /// The id of a vocabulary entry such as `"cat</w>"`, or nil.
    public func id(ofToken token: String) -> Int? {
        idByToken[token]
    }

    /// The vocabulary entry for an id, such as `"cat</w>"`, or nil.
    public func token(ofID id: Int) -> String? {
        id >= 0 && id < tokenByID.count ? tokenByID[id] : nil
    }

    /// The text for `ids`: tokens joined, byte characters turned back into UTF-8 (invalid
    /// sequences become U+FFFD), `</w>` read as a space, ends trimmed, as
    /// `tokenizer.decode(ids, skip_special_tokens=True)`. Unknown ids are skipped.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            if skipSpecialTokens && (id == bosID || id == eosID) { continue }
            guard let token = token(ofID: id) else { continue }
            for scalar in token.unicodeScalars {
                if let byte = ByteEncoder.byte(for: scalar) {
                    bytes.append(byte)
                } else {
                    bytes.append(contentsOf: String(scalar).utf8)
                }
            }
        }
        // "</w>" is replaced on bytes: as Characters, "</w>" followed by a combining mark would
        // not match. (ASCII bytes decode to themselves, so this equals replacing after decoding.)
        let endOfWord = Array("</w>".utf8)
        var spaced: [UInt8] = []
        spaced.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == endOfWord[0], bytes[i...].starts(with: endOfWord) {
                spaced.append(0x20)
                i += endOfWord.count
            } else {
                spaced.append(bytes[i])
                i += 1
            }
        }
        let text = Array(String(decoding: spaced, as: UTF8.self).unicodeScalars)
        guard let first = text.firstIndex(where: { !CLIPTextCleaner.isPythonSpace($0) }),
              let last = text.lastIndex(where: { !CLIPTextCleaner.isPythonSpace($0) }) else { return "" }
        return String(scalars: text[first...last])
    }
}
