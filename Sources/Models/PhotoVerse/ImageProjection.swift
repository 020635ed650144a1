import TensorCore

/// IP-Adapter's `image_proj` (diffusers `ImageProjection`): the CLIP image embedding is
/// projected to `tokens` context tokens and layer-normed.
public struct ImageProjection {
    let projection: Linear
    let norm: LayerNorm
    public let tokens: Int, width: Int
    public var imageEmbedDim: Int { projection.inFeatures }

    /// `projectionName`: `proj` in IP-Adapter's file, `image_embeds` in diffusers' layout.
    public init(_ path: WeightPath, projectionName: String = "proj", imageEmbedDim: Int, crossAttentionDim: Int, tokens: Int) throws {
        projection = try Linear(path(projectionName), in: imageEmbedDim, out: crossAttentionDim * tokens)
        norm = try LayerNorm(path("norm"), features: crossAttentionDim, eps: 1e-5)
        self.tokens = tokens
        width = crossAttentionDim
    }

    /// [N, imageEmbedDim] → [N, tokens, crossAttentionDim].
    public func callAsFunction(_ embeds: Tensor) -> Tensor {
        norm(projection(embeds).reshaped([embeds.shape[0], tokens, width]))
    }
}
