import TensorCore

/// Element-wise Float32 loops for the scheduler updates. Each update is written out as the same
/// sequence of Float32 operations torch performs (one rounding per op, no fused multiply-add), so
/// results match diffusers to the last bit wherever the scalar coefficients agree.
@inline(__always)
func elementwise(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
    precondition(a.shape == b.shape, "scheduler: shapes \(a.shape) and \(b.shape) differ")
    let out = Tensor(uninitializedShape: a.shape)
    let pa = a.data, pb = b.data, po = out.data
    for i in 0..<out.count { po[i] = f(pa[i], pb[i]) }
    return out
}

@inline(__always)
func elementwise(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ f: (Float, Float, Float) -> Float) -> Tensor {
    precondition(a.shape == b.shape && a.shape == c.shape, "scheduler: shapes \(a.shape), \(b.shape), \(c.shape) differ")
    let out = Tensor(uninitializedShape: a.shape)
    let pa = a.data, pb = b.data, pc = c.data, po = out.data
    for i in 0..<out.count { po[i] = f(pa[i], pb[i], pc[i]) }
    return out
}

@inline(__always)
func elementwise(_ a: Tensor, _ f: (Float) -> Float) -> Tensor {
    let out = Tensor(uninitializedShape: a.shape)
    let pa = a.data, po = out.data
    for i in 0..<out.count { po[i] = f(pa[i]) }
    return out
}
