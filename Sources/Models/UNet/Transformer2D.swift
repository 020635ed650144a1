import TensorCore

/// diffusers' `BasicTransformerBlock`: self-attention, cross-attention to the
/// text, GEGLU feed-forward, each pre-normed with a residual.
struct BasicTransformerBlock {
    let norm1: LayerNorm, selfAttention: CrossAttention
    let norm2: LayerNorm, crossAttention: CrossAttention
    let norm3: LayerNorm, feedForward: FeedForward

    init(_ path: WeightPath, dim: Int, contextDim: Int, heads: Int) throws {
        let headDim = dim / heads
        norm1 = try LayerNorm(path("norm1"), features: dim, eps: 1e-5)
        selfAttention = try CrossAttention(path("attn1"), queryDim: dim, contextDim: dim, heads: heads, headDim: headDim)
        norm2 = try LayerNorm(path("norm2"), features: dim, eps: 1e-5)
        crossAttention = try CrossAttention(path("attn2"), queryDim: dim, contextDim: contextDim, heads: heads, headDim: headDim)
        norm3 = try LayerNorm(path("norm3"), features: dim, eps: 1e-5)
        feedForward = try FeedForward(path("ff"), dim: dim)
    }

    func callAsFunction(_ x: Tensor, conditioning: CrossAttentionConditioning, deltas: LayerDeltas) -> Tensor {
        var h = x + selfAttention(norm1(x), deltas: deltas)
        h = h + crossAttention(norm2(h), conditioning: conditioning, deltas: deltas)
        return h + feedForward(norm3(h), deltas: deltas)
    }
}

/// diffusers' `Transformer2DModel` (continuous input): GN, project in, blocks over
/// the H·W sequence, project out, residual.
struct Transformer2D {
    let norm: GroupNorm
    let projectIn: Linear, projectOut: Linear
    let blocks: [BasicTransformerBlock]

    init(_ path: WeightPath, channels: Int, contextDim: Int, heads: Int, layers: Int, groups: Int,
         linearProjection: Bool) throws {
        norm = try GroupNorm(path("norm"), groups: groups, channels: channels, eps: 1e-6)
        // A 1x1 conv projection is the same matrix as a Linear; WeightLoader accepts
        // either stored shape, so both config variants share this code.
        _ = linearProjection
        projectIn = try Linear(path("proj_in"), in: channels, out: channels)
        projectOut = try Linear(path("proj_out"), in: channels, out: channels)
        blocks = try (0..<layers).map {
            try BasicTransformerBlock(path("transformer_blocks")($0), dim: channels, contextDim: contextDim, heads: heads)
        }
    }

    func callAsFunction(_ x: Tensor, conditioning: CrossAttentionConditioning, deltas: LayerDeltas) -> Tensor {
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        var sequence = projectIn(norm(x).reshaped([n, c, h * w]).transposedLastTwo(), deltas)
        for block in blocks { sequence = block(sequence, conditioning: conditioning, deltas: deltas) }
        let spatial = projectOut(sequence, deltas).transposedLastTwo().reshaped([n, c, h, w])
        return spatial + x
    }
}

extension Transformer2D {
    /// Weight paths of the cross-attention (attn2) layers, in order.
    var crossAttentionPaths: [String] { blocks.map(\.crossAttention.path) }
    var crossAttentionWidths: [Int] { blocks.map { $0.crossAttention.key.outFeatures } }
}
