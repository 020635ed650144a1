import TensorCore

/// Inference BatchNorm reduced to a per-channel scale and shift:
/// `(x - mean) / sqrt(var + eps) * weight + bias = x * scale + shift`.
struct FoldedBatchNorm {
    let scale: Tensor
    let shift: Tensor

    init(_ path: WeightPath, channels: Int, eps: Float) throws {
        let weight = try path.tensor("weight", [channels], randomFill: 1)
        let bias = try path.tensor("bias", [channels], randomFill: 0)
        let mean = try path.tensor("running_mean", [channels], randomFill: 0)
        let variance = try path.tensor("running_var", [channels], randomFill: 1)
        var s = [Float](repeating: 0, count: channels), t = s
        for c in 0..<channels {
            s[c] = weight[flat: c] / (variance[flat: c] + eps).squareRoot()
            t[c] = bias[flat: c] - mean[flat: c] * s[c]
        }
        scale = Tensor(shape: [channels], values: s)
        shift = Tensor(shape: [channels], values: t)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { x.channelAffine(scale: scale, shift: shift) }
}

/// A bias-free convolution followed by a BatchNorm, folded into one convolution with bias
/// (exact up to rounding: the BatchNorm acts after the zero padding).
struct ConvBatchNorm {
    let weight: Tensor
    let bias: Tensor
    let stride: Int
    let padding: Int

    init(conv: WeightPath, norm: WeightPath, in inChannels: Int, out outChannels: Int, kernel: Int,
         stride: Int, eps: Float) throws {
        let raw = try conv.tensor("weight", [outChannels, inChannels, kernel, kernel])
        let bn = try FoldedBatchNorm(norm, channels: outChannels, eps: eps)
        let folded = Tensor(uninitializedShape: raw.shape)
        let perOutput = inChannels * kernel * kernel
        for o in 0..<outChannels {
            let s = bn.scale[flat: o]
            for i in 0..<perOutput { folded.data[o * perOutput + i] = raw.data[o * perOutput + i] * s }
        }
        weight = folded
        bias = bn.shift
        self.stride = stride
        padding = kernel / 2
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv2d(weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding))
    }
}
