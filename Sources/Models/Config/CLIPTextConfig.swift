import Formats
import Tokenizer

/// transformers' `CLIPTextConfig` (text_encoder/config.json); SD1.5 values as defaults.
public struct CLIPTextConfig: Decodable, Equatable {
    public var vocabSize = 49408
    public var hiddenSize = 768
    public var intermediateSize = 3072
    public var numHiddenLayers = 12
    public var numAttentionHeads = 12
    public var maxPositionEmbeddings = 77
    public var hiddenAct: Activation = .quickGelu
    public var layerNormEps: Float = 1e-5
    public var bosTokenId = 49406
    public var eosTokenId = 49407
    public var padTokenId = 1

    public init() {}

    /// SD1.5's text encoder (openai/clip-vit-large-patch14 text tower).
    public static let sd15 = CLIPTextConfig()

    enum CodingKeys: String, CodingKey {
        case vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads
        case maxPositionEmbeddings, hiddenAct, layerNormEps, bosTokenId, eosTokenId, padTokenId
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = CLIPTextConfig()
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? d.vocabSize
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? d.intermediateSize
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? d.numHiddenLayers
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? d.numAttentionHeads
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? d.maxPositionEmbeddings
        hiddenAct = try c.decodeIfPresent(Activation.self, forKey: .hiddenAct) ?? d.hiddenAct
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? d.layerNormEps
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId) ?? d.bosTokenId
        eosTokenId = try c.decodeIfPresent(Int.self, forKey: .eosTokenId) ?? d.eosTokenId
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId) ?? d.padTokenId
    }
}

extension CLIPTextConfig: ValidatedConfig {
    /// The pipeline tokenizes every prompt to `max_position_embeddings` tokens, so that must
    /// hold SD's 77; the special token ids index the embedding table.
    public func validate(file: String) throws {
        let r = ConfigRules(file: file)
        try r.range("vocab_size", vocabSize, 1...ConfigRules.maxVocabulary)
        try r.range("hidden_size", hiddenSize, 1...ConfigRules.maxChannels)
        try r.range("num_attention_heads", numAttentionHeads, 1...hiddenSize)
        try r.require(hiddenSize % numAttentionHeads == 0, "num_attention_heads", numAttentionHeads,
                      "must divide hidden_size = \(hiddenSize)")
        try r.range("intermediate_size", intermediateSize, 1...(4 * ConfigRules.maxChannels))
        try r.range("num_hidden_layers", numHiddenLayers, 1...ConfigRules.maxLayers)
        try r.range("max_position_embeddings", maxPositionEmbeddings, CLIPTokenizer.defaultLength...ConfigRules.maxChannels,
                    "prompts are \(CLIPTokenizer.defaultLength) tokens")
        try r.positive("layer_norm_eps", Double(layerNormEps), below: 1)
        for (key, id) in [("bos_token_id", bosTokenId), ("eos_token_id", eosTokenId), ("pad_token_id", padTokenId)] {
            try r.range(key, id, 0...(vocabSize - 1), "token ids must be below vocab_size \(vocabSize)")
        }
    }

    /// The tokenizer's ids must index this encoder's embedding table: every id in its
    /// vocabulary (the special ones included) below `vocab_size`.
    public func validate(tokenizer: CLIPTokenizer, file: String) throws {
        let r = ConfigRules(file: file)
        let largest = max(tokenizer.largestID, tokenizer.bosID, tokenizer.eosID, tokenizer.padID)
        try r.require(largest < vocabSize, "vocab_size", vocabSize,
                      "the tokenizer has token id \(largest); vocab_size must be above every id it can produce")
    }
}
