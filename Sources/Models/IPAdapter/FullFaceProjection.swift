import TensorCore

/// IP-Adapter Full-Face's image projection (diffusers `IPAdapterFullImageProjection`): an MLP
/// and a LayerNorm applied to every token of the penultimate hidden states (257 tokens for ViT-H).
public struct FullFaceProjection {
    let feedForward: GELUFeedForward
    let norm: LayerNorm
    public var featureWidth: Int { feedForward.first.inFeatures }

    /// Published names `proj.0`, `proj.2`, `proj.3` (norm); diffusers' `ff.net.0.proj`, `ff.net.2`, `norm`.
    init(_ path: WeightPath, layout: IPAdapterLayout, crossAttentionDim: Int, origin: String) throws {
        let published = layout == .published
        let first = published ? path("proj")("0") : path("ff")("net")("0")("proj")
        let second = published ? path("proj")("2") : path("ff")("net")("2")
        guard let widths = GELUFeedForward.storedWidths(first: first, second: second), widths.out == crossAttentionDim else {
            throw ModelError.invalidInput("\(origin): \(second.prefix).weight is missing or does not give \(crossAttentionDim)-wide tokens")
        }
        feedForward = try GELUFeedForward(first: first, second: second, in: widths.in, hidden: widths.hidden,
                                          out: crossAttentionDim, bias: true)
        norm = try LayerNorm(published ? path("proj")("3") : path("norm"), features: crossAttentionDim, eps: 1e-5)
    }

    /// states [N, S, encoder width] → image tokens [N, S, cross-attention width].
    public func callAsFunction(_ states: Tensor) -> Tensor { norm(feedForward(states)) }
}
