import TensorCore

/// CLIP's multi-head self-attention (q/k/v/out projections with biases).
struct CLIPAttention {
    let query: Linear, key: Linear, value: Linear, output: Linear
    let heads: Int

    init(_ path: WeightPath, width: Int, heads: Int) throws {
        query = try Linear(path("q_proj"), in: width, out: width)
        key = try Linear(path("k_proj"), in: width, out: width)
        value = try Linear(path("v_proj"), in: width, out: width)
        output = try Linear(path("out_proj"), in: width, out: width)
        self.heads = heads
    }

    func callAsFunction(_ x: Tensor, causal: Bool, deltas: LayerDeltas = .none) -> Tensor {
        let attended = Attention.scaledDotProduct(query: query(x, deltas), key: key(x, deltas), value: value(x, deltas),
                                                  heads: heads, causal: causal)
        return output(attended, deltas)
    }
}
