import TensorCore

/// IP-Adapter Plus's image projection (diffusers `IPAdapterPlusImageProjection`): learned
/// latent queries attend through the blocks to the image encoder's penultimate hidden states
/// (all tokens), then `proj_out` and `norm_out` give the image tokens.
public struct PerceiverResampler {
    let latents: Tensor          // [1, queries, width]
    let inputProjection: Linear  // proj_in: encoder width → width
    let blocks: [ResamplerBlock]
    let outputProjection: Linear // proj_out: width → cross-attention width
    let outputNorm: LayerNorm
    public var queries: Int { latents.shape[1] }
    public var featureWidth: Int { inputProjection.inFeatures }

    /// `path` is the projection (`image_proj` or diffusers' `encoder_hid_proj.image_projection_layers.0`);
    /// the names below it are the same in both layouts, except inside the blocks.
    init(_ path: WeightPath, layout: IPAdapterLayout, crossAttentionDim: Int, origin: String) throws {
        guard let stored = path.storedShape("latents"), stored.count == 3, stored[0] == 1,
              let input = path("proj_in").storedShape("weight"), input.count == 2, input[0] == stored[2] else {
            throw ModelError.invalidInput("\(origin): \(path.prefix).latents [1, queries, width] and proj_in.weight [width, encoder width] are missing or disagree")
        }
        let width = stored[2]
        latents = try path.tensor("latents", stored)
        inputProjection = try Linear(path("proj_in"), in: input[1], out: width)
        let count = ResamplerBlock.storedCount(path("layers"), layout: layout)
        guard count > 0 else { throw ModelError.invalidInput("\(origin): \(path.prefix).layers.0 is missing") }
        blocks = try (0..<count).map { try ResamplerBlock(path("layers")($0), layout: layout, width: width, origin: origin) }
        outputProjection = try Linear(path("proj_out"), in: width, out: crossAttentionDim)
        outputNorm = try LayerNorm(path("norm_out"), features: crossAttentionDim, eps: 1e-5)
    }

    /// states [N, S, encoder width] → image tokens [N, queries, cross-attention width].
    public func callAsFunction(_ states: Tensor) -> Tensor {
        let features = inputProjection(states)
        var h = Tensor.concat(Array(repeating: latents, count: states.shape[0]), axis: 0)
        for block in blocks { h = block(features: features, latents: h) }
        return outputNorm(outputProjection(h))
    }
}
