import TensorCore

/// diffusers' `Attention` as the UNet uses it: q/k/v without bias, output with bias.
/// Self-attention for attn1; for attn2, cross-attention to the conditioning, with
/// PhotoVerse's decoupled image attention when the conditioning carries image tokens.
struct CrossAttention {
    let query: Linear, key: Linear, value: Linear, output: Linear
    let heads: Int
    /// The weight path (`down_blocks.0.attentions.0.transformer_blocks.0.attn2`): adapters are found by it.
    let path: String

    init(_ path: WeightPath, queryDim: Int, contextDim: Int, heads: Int, headDim: Int) throws {
        let inner = heads * headDim
        query = try Linear(path("to_q"), in: queryDim, out: inner, bias: false)
        key = try Linear(path("to_k"), in: contextDim, out: inner, bias: false)
        value = try Linear(path("to_v"), in: contextDim, out: inner, bias: false)
        output = try Linear(path("to_out")(0), in: inner, out: queryDim)
        self.heads = heads
        self.path = path.prefix
    }

    /// Self-attention.
    func callAsFunction(_ x: Tensor, deltas: LayerDeltas) -> Tensor {
        output(Attention.scaledDotProduct(query: query(x, deltas), key: key(x, deltas), value: value(x, deltas),
                                          heads: heads), deltas)
    }

    /// Cross-attention: γ · Attn(Q, K_T, V_T) + σ · Attn(Q, K_S, V_S).
    func callAsFunction(_ x: Tensor, conditioning c: CrossAttentionConditioning, deltas: LayerDeltas) -> Tensor {
        let q = query(x, deltas)
        let kv = c.keysValues(for: path, key: key, value: value, deltas: deltas)
        var attended = Attention.scaledDotProduct(query: q, key: kv.key, value: kv.value, heads: heads)
        if c.textWeight != 1 { attended = attended * c.textWeight }
        if c.imageWeight != 0, let imageK = kv.imageKey, let imageV = kv.imageValue {
            let image = Attention.scaledDotProduct(query: q, key: imageK, value: imageV, heads: heads)
            attended = attended + image * c.imageWeight
        }
        return output(attended, deltas)
    }
}
