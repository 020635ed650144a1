import TensorCore

/// transformers' `CLIPTextModel`: token + position embeddings, causal pre-norm
/// transformer, final layer norm. Returns the last hidden state SD conditions on.
public struct CLIPTextModel {
    public let config: CLIPTextConfig
    let tokenEmbedding: LayerWeight  // [vocab, width]; half-resident in large models (SD1.5: 76 MB, not 152)
    let positionEmbedding: Tensor   // [positions, width]
    let layers: [CLIPEncoderLayer]
    let finalNorm: LayerNorm
    /// The Linear layers a LoRA file may adapt, by module name below `text_model.`.
    public let loraTargets: LoRATargets

    public init(config: CLIPTextConfig, weights: WeightPath) throws {
        self.config = config
        let w = config.hiddenSize
        let text = weights.optionalLevel("text_model", probe: "embeddings.token_embedding.weight")
        tokenEmbedding = try text("embeddings")("token_embedding").weight("weight", [config.vocabSize, w])
        positionEmbedding = try text("embeddings")("position_embedding").tensor("weight", [config.maxPositionEmbeddings, w])
        layers = try (0..<config.numHiddenLayers).map {
            try CLIPEncoderLayer(text("encoder")("layers")($0), width: w, intermediate: config.intermediateSize,
                                 heads: config.numAttentionHeads, activation: config.hiddenAct, eps: config.layerNormEps)
        }
        finalNorm = try LayerNorm(text("final_layer_norm"), features: w, eps: config.layerNormEps)
        // Files name these layers with `text_model.` or without it (diffusers strips it); kohya's
        // `lora_te_text_model_...` names keep it.
        loraTargets = LoRATargets(layers: text.adaptableLayers(), kohyaPrefix: "lora_te_text_model_",
                                  optionalPrefix: "text_model.")
    }

    /// Token embeddings [batch, length, width] for ids; the PhotoVerse text branch
    /// replaces the placeholder's rows here, before positions are added.
    public func tokenEmbeddings(_ ids: [[Int]]) -> Tensor {
        let length = ids.first?.count ?? 0
        let w = config.hiddenSize
        let out = Tensor(uninitializedShape: [ids.count, length, w])
        for (b, row) in ids.enumerated() {
            precondition(row.count == length, "all token rows must have the same length")
            for (i, id) in row.enumerated() {
                precondition(id >= 0 && id < config.vocabSize, "token id \(id) outside vocabulary of \(config.vocabSize)")
                tokenEmbedding.copyRow(id, into: out.data + (b * length + i) * w)
            }
        }
        return out
    }

    /// The last hidden state [batch, length, width] for token ids.
    public func callAsFunction(_ ids: [[Int]], deltas: LayerDeltas = .none) -> Tensor {
        encode(embeddings: tokenEmbeddings(ids), deltas: deltas)
    }

    /// Runs the encoder on token embeddings (positions are added here), with this run's LoRA deltas.
    public func encode(embeddings: Tensor, deltas: LayerDeltas = .none) -> Tensor {
        let length = embeddings.shape[1]
        precondition(length <= config.maxPositionEmbeddings, "\(length) tokens exceed \(config.maxPositionEmbeddings) positions")
        let positions = positionEmbedding.slice(axis: 0, start: 0, length: length)
        var h = embeddings + positions
        for layer in layers { h = layer(h, causal: true, deltas: deltas) }
        return finalNorm(h)
    }
}
