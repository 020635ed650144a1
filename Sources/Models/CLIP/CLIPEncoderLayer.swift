import TensorCore

/// One pre-norm transformer layer of CLIP (text and vision towers alike).
struct CLIPEncoderLayer {
    let norm1: LayerNorm, attention: CLIPAttention, norm2: LayerNorm
    let fc1: Linear, fc2: Linear
    let activation: Activation

    init(_ path: WeightPath, width: Int, intermediate: Int, heads: Int, activation: Activation, eps: Float) throws {
        norm1 = try LayerNorm(path("layer_norm1"), features: width, eps: eps)
        attention = try CLIPAttention(path("self_attn"), width: width, heads: heads)
        norm2 = try LayerNorm(path("layer_norm2"), features: width, eps: eps)
        fc1 = try Linear(path("mlp")("fc1"), in: width, out: intermediate)
        fc2 = try Linear(path("mlp")("fc2"), in: intermediate, out: width)
        self.activation = activation
    }

    func callAsFunction(_ x: Tensor, causal: Bool, deltas: LayerDeltas = .none) -> Tensor {
        let h = x + attention(norm1(x), causal: causal, deltas: deltas)
        return h + fc2(activation(fc1(norm2(h), deltas)), deltas)
    }
}
