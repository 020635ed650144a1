import CKernels
import Foundation

/// Group norm, layer norm and softmax.
extension Tensor {
    /// PyTorch GroupNorm on [N, C, ...]: statistics over each group's channels and
    /// all spatial positions, then a per-channel affine transform; `silu` applies SiLU to the
    /// result in the same pass (the same arithmetic as `.silu()` after it, one tensor fewer:
    /// at the SD VAE's 512x512 layers that is 268 MB less at the peak).
    public func groupNorm(groups: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5, silu: Bool = false) -> Tensor {
        let coefficients = groupNormCoefficients(groups: groups, weight: weight, bias: bias, eps: eps)
        let planes = shape[0] * shape[1]
        let spatial = count / max(planes, 1)
        let out = Tensor(uninitializedShape: shape)
        let x = data, o = out.data
        let scales = coefficients.scale, shifts = coefficients.shift
        Parallel.forEach(planes, costPerItem: spatial) { plane in
            let scale = scales[plane], shift = shifts[plane]
            let start = plane * spatial
            if silu {
                for i in start..<(start + spatial) {
                    let v = x[i] * scale + shift
                    o[i] = v / (1 + expf(-v))
                }
            } else {
                for i in start..<(start + spatial) { o[i] = x[i] * scale + shift }
            }
        }
        return out
    }

    /// GroupNorm as a per-(image, channel) affine map x·scale + shift (arrays of N·C): what
    /// `groupNorm` applies, and what a convolution can apply as it reads its input
    /// (`normSiLUConv3x3`) instead of materialising the normalised tensor.
    public func groupNormCoefficients(groups: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5)
        -> (scale: [Float], shift: [Float]) {
        precondition(rank >= 2, "groupNorm needs [N, C, ...], got \(shape)")
        let n = shape[0], c = shape[1]
        precondition(groups > 0 && c % groups == 0, "groupNorm: \(c) channels do not split into \(groups) groups")
        if let weight { precondition(weight.count == c, "groupNorm weight must have \(c) values, got \(weight.shape)") }
        if let bias { precondition(bias.count == c, "groupNorm bias must have \(c) values, got \(bias.shape)") }
        let spatial = count / max(n * c, 1)
        let perGroup = c / groups
        let groupSize = perGroup * spatial
        var scale = [Float](repeating: 0, count: n * c), shift = [Float](repeating: 0, count: n * c)
        let x = data
        let w = weight?.data, b = bias?.data
        scale.withUnsafeMutableBufferPointer { scales in
            shift.withUnsafeMutableBufferPointer { shifts in
                let scales = scales.baseAddress!, shifts = shifts.baseAddress!
                Parallel.forEach(n * groups, costPerItem: groupSize) { index in
                    let base = index * groupSize
                    var sum = 0.0, sumSq = 0.0
                    for i in 0..<groupSize {
                        let v = Double(x[base + i])
                        sum += v
                        sumSq += v * v
                    }
                    let mean = sum / Double(max(groupSize, 1))
                    let variance = max(sumSq / Double(max(groupSize, 1)) - mean * mean, 0)
                    let inv = Float(1 / (variance + Double(eps)).squareRoot())
                    let meanF = Float(mean)
                    let image = index / groups, firstChannel = (index % groups) * perGroup
                    for ch in 0..<perGroup {
                        let channelScale = inv * (w?[firstChannel + ch] ?? 1)
                        scales[image * c + firstChannel + ch] = channelScale
                        shifts[image * c + firstChannel + ch] = (b?[firstChannel + ch] ?? 0) - meanF * channelScale
                    }
                }
            }
        }
        return (scale, shift)
    }

    /// PyTorch LayerNorm over the last axis.
    public func layerNorm(weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
        precondition(rank >= 1, "layerNorm needs at least one axis")
        let d = shape[rank - 1]
        if let weight { precondition(weight.count == d, "layerNorm weight must have \(d) values, got \(weight.shape)") }
        if let bias { precondition(bias.count == d, "layerNorm bias must have \(d) values, got \(bias.shape)") }
        let rows = count / max(d, 1)
        let out = Tensor(uninitializedShape: shape)
        let x = data, o = out.data
        let w = weight?.data, b = bias?.data
        Parallel.forEach(rows, costPerItem: d) { row in
            let px = x + row * d, po = o + row * d
            var sum = 0.0
            for i in 0..<d { sum += Double(px[i]) }
            let mean = sum / Double(max(d, 1))
            var sq = 0.0
            for i in 0..<d {
                let delta = Double(px[i]) - mean
                sq += delta * delta
            }
            let inv = Float(1 / (sq / Double(max(d, 1)) + Double(eps)).squareRoot())
            let meanF = Float(mean)
            for i in 0..<d {
                po[i] = (px[i] - meanF) * inv * (w?[i] ?? 1) + (b?[i] ?? 0)
            }
        }
        return out
    }

    /// Softmax over the last axis (max-subtracted, so large inputs are safe).
    public func softmax() -> Tensor {
        precondition(rank >= 1, "softmax needs at least one axis")
        let out = copy()
        let d = shape[rank - 1]
        let rows = count / max(d, 1)
        let o = out.data
        Parallel.forEach(rows, costPerItem: d) { row in Tensor.softmaxRow(o + row * d, d) }
        return out
    }

    /// In-place softmax of one row; a row of all -inf becomes all zeros.
    /// The exp loop is vectorised in C (CKernels): it is a sixth of a UNet pass.
    @inline(__always)
    static func softmaxRow(_ p: UnsafeMutablePointer<Float>, _ d: Int) {
        pv_softmax_row(p, d)
    }
}
