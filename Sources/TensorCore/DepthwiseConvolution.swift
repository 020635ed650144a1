/// Depthwise 2-D convolution: each channel convolved with its own kernel (NCHW input,
/// [C, 1, kh, kw] weights, PyTorch's `groups = C`), with per-side zero padding.
///
/// `conv2d(groups:)` would do the same through im2col and one tiny GEMM per channel; a
/// direct loop is several times faster for 3x3 kernels and is what MobileNet-style
/// detectors (BlazeFace) spend half their time in.
extension Tensor {
    public func depthwiseConv2d(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                                padding: SpatialPadding = .zero) -> Tensor {
        precondition(rank == 4, "depthwiseConv2d input must be [N, C, H, W], got \(shape)")
        let n = shape[0], channels = shape[1], h = shape[2], w = shape[3]
        precondition(weight.rank == 4 && weight.shape[0] == channels && weight.shape[1] == 1,
                     "depthwiseConv2d weight must be [\(channels), 1, kh, kw], got \(weight.shape)")
        precondition(stride.0 > 0 && stride.1 > 0, "depthwiseConv2d: bad stride \(stride)")
        if let bias { precondition(bias.count == channels, "depthwiseConv2d bias must have \(channels) values, got \(bias.shape)") }
        let kh = weight.shape[2], kw = weight.shape[3]
        let (oh, ow) = padding.outputSize(height: h, width: w, kernel: (kh, kw), stride: stride)
        let out = Tensor(uninitializedShape: [n, channels, oh, ow])
        let src = data, dst = out.data, kernels = weight.data, biases = bias?.data
        Parallel.forEach(n * channels, costPerItem: oh * ow * kh * kw) { plane in
            let c = plane % channels
            let input = src + plane * h * w
            let output = dst + plane * oh * ow
            let kernel = kernels + c * kh * kw
            output.initialize(repeating: biases?[c] ?? 0, count: oh * ow)
            for y in 0..<oh {
                let row = output + y * ow
                for ky in 0..<kh {
                    let iy = y * stride.0 - padding.top + ky
                    if iy < 0 || iy >= h { continue }
                    let line = input + iy * w
                    for kx in 0..<kw {
                        let k = kernel[ky * kw + kx]
                        // Output columns whose input column ix = x·s − left + kx lies inside.
                        let offset = kx - padding.left
                        let first = offset >= 0 ? 0 : (-offset + stride.1 - 1) / stride.1
                        let last = min(ow - 1, (w - 1 - offset) / stride.1)
                        if first > last || w - 1 - offset < 0 { continue }
                        for x in first...last { row[x] += k * line[x * stride.1 + offset] }
                    }
                }
            }
        }
        return out
    }
}
