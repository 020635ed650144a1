import TensorCore

/// diffusers' `Attention` as the UNet uses it: q/k/v without bias, output with bias.
/// Self-attention when `context` is nil (attn1), cross-attention to the text otherwise (attn2).
struct CrossAttention {
    let query: Linear, key: Linear, value: Linear, output: Linear
    let heads: Int

    init(_ path: WeightPath, queryDim: Int, contextDim: Int, heads: Int, headDim: Int) throws {
        let inner = heads * headDim
        query = try Linear(path("to_q"), in: queryDim, out: inner, bias: false)
        key = try Linear(path("to_k"), in: contextDim, out: inner, bias: false)
        value = try Linear(path("to_v"), in: contextDim, out: inner, bias: false)
        output = try Linear(path("to_out")(0), in: inner, out: queryDim)
        self.heads = heads
    }

    func callAsFunction(_ x: Tensor, context: Tensor? = nil) -> Tensor {
        let source = context ?? x
        let attended = Attention.scaledDotProduct(query: query(x), key: key(source), value: value(source), heads: heads)
        return output(attended)
    }
}
