import TensorCore

/// diffusers' `ResnetBlock2D`: GN-SiLU-conv, optional time embedding added per
/// channel, GN-SiLU-conv, 1x1 shortcut when the width changes. UNet and VAE share it.
struct ResnetBlock2D {
    let norm1: GroupNorm, conv1: Conv2d
    let timeProjection: Linear?
    let norm2: GroupNorm, conv2: Conv2d
    let shortcut: Conv2d?

    init(_ path: WeightPath, in inChannels: Int, out outChannels: Int, timeChannels: Int?,
         groups: Int, eps: Float) throws {
        norm1 = try GroupNorm(path("norm1"), groups: groups, channels: inChannels, eps: eps)
        conv1 = try Conv2d(path("conv1"), in: inChannels, out: outChannels, kernel: 3, padding: 1)
        timeProjection = try timeChannels.map { try Linear(path("time_emb_proj"), in: $0, out: outChannels) }
        norm2 = try GroupNorm(path("norm2"), groups: groups, channels: outChannels, eps: eps)
        conv2 = try Conv2d(path("conv2"), in: outChannels, out: outChannels, kernel: 3, padding: 1)
        shortcut = inChannels == outChannels ? nil
            : try Conv2d(path("conv_shortcut"), in: inChannels, out: outChannels, kernel: 1)
    }

    /// `timeEmbedding` is the already SiLU-activated embedding [N, timeChannels].
    func callAsFunction(_ x: Tensor, timeEmbedding: Tensor? = nil, deltas: LayerDeltas = .none) -> Tensor {
        var h = conv1.afterNormSiLU(norm1, x, deltas)
        if let timeProjection, let timeEmbedding {
            // conv1's output is fresh and ours alone too: the embedding is added into it.
            h = h.addingPerChannelInPlace(timeProjection(timeEmbedding, deltas))
        }
        // conv2's output is fresh and ours alone: the residual is added into it.
        return conv2.afterNormSiLU(norm2, h, deltas).addingInPlace(shortcut?(x, deltas) ?? x)
    }
}
