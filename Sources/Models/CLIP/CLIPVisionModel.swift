import TensorCore

/// transformers' `CLIPVisionModel` / `CLIPVisionModelWithProjection`: patch and class
/// embeddings, pre-norm, a non-causal transformer, post-norm of the CLS token and
/// (when the weights have it) the visual projection.
public struct CLIPVisionModel {
    public let config: CLIPVisionConfig
    let patchEmbedding: Conv2d
    let classEmbedding: Tensor      // [width]
    let positionEmbedding: Tensor   // [1 + patches, width]
    let preNorm: LayerNorm
    let layers: [CLIPEncoderLayer]
    let postNorm: LayerNorm
    public let projection: Linear?

    /// `withProjection`: load `visual_projection.weight` (IP-Adapter's image embeds need it).
    public init(config: CLIPVisionConfig, weights: WeightPath, withProjection: Bool = false) throws {
        self.config = config
        let w = config.hiddenSize
        let vision = weights.optionalLevel("vision_model", probe: "embeddings.class_embedding")
        patchEmbedding = try Conv2d(vision("embeddings")("patch_embedding"), in: config.numChannels, out: w,
                                    kernel: config.patchSize, stride: config.patchSize, bias: false)
        classEmbedding = try vision("embeddings").tensor("class_embedding", [w])
        positionEmbedding = try vision("embeddings")("position_embedding").tensor("weight", [config.sequenceLength, w])
        preNorm = try LayerNorm(vision("pre_layrnorm"), features: w, eps: config.layerNormEps)
        layers = try (0..<config.numHiddenLayers).map {
            try CLIPEncoderLayer(vision("encoder")("layers")($0), width: w, intermediate: config.intermediateSize,
                                 heads: config.numAttentionHeads, activation: config.hiddenAct, eps: config.layerNormEps)
        }
        postNorm = try LayerNorm(vision("post_layernorm"), features: w, eps: config.layerNormEps)
        projection = withProjection
            ? try Linear(weights("visual_projection"), in: w, out: config.projectionDim, bias: false) : nil
    }

    /// Hidden states [N, 1 + patches, width] of the requested layers, in the order asked.
    /// Layer k is transformers' `hidden_states[k]` (0 = embeddings after the pre-norm);
    /// -1 is `last_hidden_state` (the last layer's output, before the post-norm).
    /// Only the layers up to the deepest one requested are run.
    public func hiddenStates(_ pixels: Tensor, layers wanted: [Int]) -> [Tensor] {
        let count = layers.count
        let resolved = wanted.map { $0 < 0 ? count + 1 + $0 : $0 }
        precondition(resolved.allSatisfy { $0 >= 0 && $0 <= count }, "vision layers \(wanted) outside 0...\(count)")
        let deepest = resolved.max() ?? 0
        var states: [Int: Tensor] = [:]
        var h = preNorm(embeddings(pixels))
        if resolved.contains(0) { states[0] = h }
        if deepest > 0 {
            for i in 0..<deepest {
                h = layers[i](h, causal: false)
                if resolved.contains(i + 1) { states[i + 1] = h }
            }
        }
        return resolved.map { states[$0]! }
    }

    /// transformers' `hidden_states[-2]` [N, 1 + patches, width]: the output of the layer before
    /// the last, every token (what IP-Adapter Plus, Full-Face and FaceID-Plus read).
    public func penultimateHiddenStates(_ pixels: Tensor) -> Tensor {
        hiddenStates(pixels, layers: [-2])[0]
    }

    /// `image_embeds` of `CLIPVisionModelWithProjection` [N, projectionDim]: the projected,
    /// post-normed CLS token (IP-Adapter's input).
    public func imageEmbeddings(_ pixels: Tensor) -> Tensor {
        guard let projection else { preconditionFailure("vision model was loaded without its visual projection") }
        let last = hiddenStates(pixels, layers: [-1])[0]
        let cls = last.slice(axis: 1, start: 0, length: 1).reshaped([last.shape[0], config.hiddenSize])
        return projection(postNorm(cls))
    }

    /// Patch embeddings with the class token in front, plus positions: [N, 1 + patches, width].
    func embeddings(_ pixels: Tensor) -> Tensor {
        precondition(pixels.rank == 4 && pixels.shape[1] == config.numChannels
                     && pixels.shape[2] == config.imageSize && pixels.shape[3] == config.imageSize,
                     "vision encoder expects [N, \(config.numChannels), \(config.imageSize), \(config.imageSize)], got \(pixels.shape)")
        let n = pixels.shape[0], w = config.hiddenSize
        let patches = patchEmbedding(pixels)                    // [N, width, p, p]
        let sequence = patches.reshaped([n, w, patches.shape[2] * patches.shape[3]]).transposedLastTwo()
        let cls = classEmbedding.reshaped([1, 1, w])
        let tokens = Tensor.concat((0..<n).map { _ in cls }, axis: 0)
        return Tensor.concat([tokens, sequence], axis: 1) + positionEmbedding.reshaped([1, config.sequenceLength, w])
    }
}
