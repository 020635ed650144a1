/// Per-channel element-wise ops on [N, C, ...] tensors: PReLU and a channel affine (an
/// inference BatchNorm whose statistics are folded into a scale and a shift).
extension Tensor {
    /// PReLU: x where x >= 0, slope[c]·x elsewhere; `slopes` holds one value per channel.
    public func prelu(slopes: Tensor) -> Tensor {
        precondition(rank >= 2 && slopes.count == shape[1], "prelu: \(slopes.count) slopes for shape \(shape)")
        let out = Tensor(uninitializedShape: shape)
        let channels = shape[1], inner = shape.dropFirst(2).reduce(1, *)
        let src = data, dst = out.data, slope = slopes.data
        for outer in 0..<(shape[0] * channels) {
            let s = slope[outer % channels]
            let base = outer * inner
            for i in base..<(base + inner) {
                let v = src[i]
                dst[i] = v >= 0 ? v : v * s
            }
        }
        return out
    }

    /// x·scale[c] + shift[c] for every channel c of [N, C, ...].
    public func channelAffine(scale: Tensor, shift: Tensor) -> Tensor {
        precondition(rank >= 2 && scale.count == shape[1] && shift.count == shape[1],
                     "channelAffine: \(scale.count) scales and \(shift.count) shifts for shape \(shape)")
        let out = Tensor(uninitializedShape: shape)
        let channels = shape[1], inner = shape.dropFirst(2).reduce(1, *)
        let src = data, dst = out.data, a = scale.data, b = shift.data
        for outer in 0..<(shape[0] * channels) {
            let s = a[outer % channels], t = b[outer % channels]
            let base = outer * inner
            for i in base..<(base + inner) { dst[i] = src[i] * s + t }
        }
        return out
    }
}
