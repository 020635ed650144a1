import TensorCore

/// The VAE mid-block's single-head spatial self-attention (diffusers `Attention`
/// with a group norm and a residual; q/k/v/out all with biases).
struct VAEAttention {
    let norm: GroupNorm
    let query: Linear, key: Linear, value: Linear, output: Linear

    init(_ path: WeightPath, channels: Int, groups: Int) throws {
        norm = try GroupNorm(path("group_norm"), groups: groups, channels: channels, eps: 1e-6)
        query = try Linear(path("to_q"), in: channels, out: channels)
        key = try Linear(path("to_k"), in: channels, out: channels)
        value = try Linear(path("to_v"), in: channels, out: channels)
        output = try Linear(path("to_out")(0), in: channels, out: channels)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let sequence = norm(x).reshaped([n, c, h * w]).transposedLastTwo()
        let attended = Attention.scaledDotProduct(query: query(sequence), key: key(sequence), value: value(sequence), heads: 1)
        return output(attended).transposedLastTwo().reshaped([n, c, h, w]) + x
    }
}

/// The VAE's `UNetMidBlock2D`: resnet, attention, resnet (no time embedding).
struct VAEMidBlock {
    let first: ResnetBlock2D, attention: VAEAttention, second: ResnetBlock2D

    init(_ path: WeightPath, channels: Int, groups: Int) throws {
        first = try ResnetBlock2D(path("resnets")(0), in: channels, out: channels, timeChannels: nil, groups: groups, eps: 1e-6)
        attention = try VAEAttention(path("attentions")(0), channels: channels, groups: groups)
        second = try ResnetBlock2D(path("resnets")(1), in: channels, out: channels, timeChannels: nil, groups: groups, eps: 1e-6)
    }

    func callAsFunction(_ x: Tensor, stop: StopFlag?) throws -> Tensor {
        let h = first(x)
        try stop?.check()
        let attended = attention(h)
        try stop?.check()
        return second(attended)
    }
}
