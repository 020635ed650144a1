/// 2-D max pooling over NCHW; padded positions never win (they count as −∞), as in
/// TensorFlow and PyTorch.
extension Tensor {
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: SpatialPadding = .zero) -> Tensor {
        precondition(rank == 4, "maxPool2d input must be [N, C, H, W], got \(shape)")
        let step = stride ?? kernel
        precondition(kernel.0 > 0 && kernel.1 > 0 && step.0 > 0 && step.1 > 0,
                     "maxPool2d: bad kernel \(kernel) or stride \(step)")
        precondition(padding.top < kernel.0 && padding.bottom < kernel.0 && padding.left < kernel.1 && padding.right < kernel.1,
                     "maxPool2d: padding (\(padding)) must be smaller than the kernel \(kernel)")
        let planes = shape[0] * shape[1], h = shape[2], w = shape[3]
        let (oh, ow) = padding.outputSize(height: h, width: w, kernel: kernel, stride: step)
        let out = Tensor(uninitializedShape: [shape[0], shape[1], oh, ow])
        let src = data, dst = out.data
        Parallel.forEach(planes, costPerItem: oh * ow * kernel.0 * kernel.1) { plane in
            let input = src + plane * h * w
            let output = dst + plane * oh * ow
            for y in 0..<oh {
                let y0 = max(0, y * step.0 - padding.top), y1 = min(h, y * step.0 - padding.top + kernel.0)
                for x in 0..<ow {
                    let x0 = max(0, x * step.1 - padding.left), x1 = min(w, x * step.1 - padding.left + kernel.1)
                    var best = -Float.infinity
                    for iy in y0..<y1 {
                        for ix in x0..<x1 { best = Swift.max(best, input[iy * w + ix]) }
                    }
                    output[y * ow + x] = best
                }
            }
        }
        return out
    }
}
