/// Zero padding of the two spatial axes of [N, C, H, W].
extension Tensor {
    public func padded(top: Int = 0, bottom: Int = 0, left: Int = 0, right: Int = 0) -> Tensor {
        precondition(rank == 4, "padded needs [N, C, H, W], got \(shape)")
        precondition(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, "padding must be non-negative")
        let planes = shape[0] * shape[1], h = shape[2], w = shape[3]
        let oh = h + top + bottom, ow = w + left + right
        let out = Tensor(shape: [shape[0], shape[1], oh, ow], repeating: 0)
        let src = data, dst = out.data
        Parallel.forEach(planes, costPerItem: oh * ow) { p in
            for y in 0..<h {
                (dst + (p * oh + y + top) * ow + left).update(from: src + (p * h + y) * w, count: w)
            }
        }
        return out
    }
}
