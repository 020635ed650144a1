import TensorCore

/// IP-Adapter FaceID's image projection (diffusers `IPAdapterFaceIDImageProjection`): the
/// ArcFace embedding through an MLP, reshaped to `tokens` tokens, layer-normed.
public struct FaceIDProjection {
    let feedForward: GELUFeedForward
    let norm: LayerNorm
    public let tokens: Int, width: Int
    public var embeddingWidth: Int { feedForward.first.inFeatures }

    /// `first`/`second`: the MLP's layers (published `proj.0`/`proj.2`; diffusers `ff.net.0.proj`/
    /// `ff.net.2`, or FaceID-Plus's `proj.net.0.proj`/`proj.net.2`); `norm` over `width`.
    init(first: WeightPath, second: WeightPath, norm normPath: WeightPath, width: Int, origin: String) throws {
        guard let widths = GELUFeedForward.storedWidths(first: first, second: second),
              widths.out % width == 0, widths.out > 0 else {
            throw ModelError.invalidInput("\(origin): \(first.prefix).weight / \(second.prefix).weight are missing or do not give [tokens·\(width)] outputs")
        }
        feedForward = try GELUFeedForward(first: first, second: second, in: widths.in, hidden: widths.hidden,
                                          out: widths.out, bias: true)
        norm = try LayerNorm(normPath, features: width, eps: 1e-5)
        tokens = widths.out / width
        self.width = width
    }

    /// embedding [N, embedding width] → tokens [N, tokens, width].
    public func callAsFunction(_ embedding: Tensor) -> Tensor {
        norm(feedForward(embedding).reshaped([embedding.shape[0], tokens, width]))
    }
}
