import TensorCore

/// IP-Adapter FaceID-Plus's image projection (diffusers `IPAdapterFaceIDPlusImageProjection`):
/// the ArcFace embedding becomes tokens (as FaceID's), which then attend through the perceiver
/// blocks to the CLIP encoder's penultimate hidden states. Plus-v2's shortcut returns
/// ArcFace tokens + scale · output instead of the output.
public struct FaceIDPlusProjection {
    let identity: FaceIDProjection
    let inputProjection: Linear
    let blocks: [ResamplerBlock]
    let outputProjection: Linear
    let outputNorm: LayerNorm
    public var tokens: Int { identity.tokens }
    public var embeddingWidth: Int { identity.embeddingWidth }
    public var featureWidth: Int { inputProjection.inFeatures }

    /// Published names: `proj.0`, `proj.2`, `norm`, `perceiver_resampler.{proj_in, layers, proj_out,
    /// norm_out}`; diffusers': `proj.net.0.proj`, `proj.net.2`, `norm`, and the perceiver's parts
    /// at the top level.
    init(_ path: WeightPath, layout: IPAdapterLayout, crossAttentionDim: Int, origin: String) throws {
        let published = layout == .published
        let perceiver = published ? path("perceiver_resampler") : path
        guard let input = perceiver("proj_in").storedShape("weight"), input.count == 2 else {
            throw ModelError.invalidInput("\(origin): \(perceiver("proj_in").prefix).weight is missing")
        }
        let width = input[0]
        identity = try FaceIDProjection(first: published ? path("proj")("0") : path("proj")("net")("0")("proj"),
                                        second: published ? path("proj")("2") : path("proj")("net")("2"),
                                        norm: path("norm"), width: width, origin: origin)
        inputProjection = try Linear(perceiver("proj_in"), in: input[1], out: width)
        let count = ResamplerBlock.storedCount(perceiver("layers"), layout: layout)
        guard count > 0 else { throw ModelError.invalidInput("\(origin): \(perceiver("layers").prefix).0 is missing") }
        blocks = try (0..<count).map { try ResamplerBlock(perceiver("layers")($0), layout: layout, width: width, origin: origin) }
        outputProjection = try Linear(perceiver("proj_out"), in: width, out: crossAttentionDim)
        outputNorm = try LayerNorm(perceiver("norm_out"), features: crossAttentionDim, eps: 1e-5)
        guard width == crossAttentionDim else {
            throw ModelError.invalidInput("\(origin): FaceID-Plus tokens are \(width) wide but the UNet attends to \(crossAttentionDim) (the shortcut adds them)")
        }
    }

    /// embedding [N, D], states [N, S, encoder width] → tokens [N, tokens, cross width].
    /// `shortcutScale` nil: FaceID-Plus; a value: Plus-v2's shortcut with that scale.
    public func callAsFunction(embedding: Tensor, states: Tensor, shortcutScale: Float?) -> Tensor {
        let idTokens = identity(embedding)
        let features = inputProjection(states)
        var h = idTokens
        for block in blocks { h = block(features: features, latents: h) }
        let out = outputNorm(outputProjection(h))
        guard let shortcutScale else { return out }
        return idTokens + out * shortcutScale
    }
}
