/// Element-wise binary ops with NumPy broadcasting rules.
extension Tensor {
    /// The shape two operands broadcast to, or nil if they are incompatible.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { result[i] = da } else if da == 1 { result[i] = db } else { return nil }
        }
        return result
    }

    /// Strides of `shape` viewed in a broadcast `target` shape (0 on broadcast axes).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = Tensor.strides(of: shape)
        let offset = target.count - shape.count
        return (0..<target.count).map { i in
            i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
        }
    }

    @inline(__always)
    func binary(_ other: Tensor, _ name: String, _ op: (Float, Float) -> Float) -> Tensor {
        guard let outShape = Tensor.broadcastShape(shape, other.shape) else {
            preconditionFailure("\(name): shapes \(shape) and \(other.shape) do not broadcast")
        }
        let out = Tensor(uninitializedShape: outShape)
        let a = data, b = other.data, o = out.data
        if shape == other.shape {
            Parallel.forRanges(out.count) { r in for i in r { o[i] = op(a[i], b[i]) } }
            return out
        }
        if other.count == 1 {
            let s = b[0]
            Parallel.forRanges(out.count) { r in for i in r { o[i] = op(a[i], s) } }
            return out
        }
        if count == 1 {
            let s = a[0]
            Parallel.forRanges(out.count) { r in for i in r { o[i] = op(s, b[i]) } }
            return out
        }
        // General case: walk the output a row (last axis) at a time.
        let rank = outShape.count
        let inner = rank == 0 ? 1 : outShape[rank - 1]
        let rows = out.count / max(inner, 1)
        let sa = Tensor.broadcastStrides(shape, to: outShape)
        let sb = Tensor.broadcastStrides(other.shape, to: outShape)
        let innerA = rank == 0 ? 0 : sa[rank - 1], innerB = rank == 0 ? 0 : sb[rank - 1]
        Parallel.forEach(rows, costPerItem: inner) { row in
            var rest = row, offA = 0, offB = 0
            for axis in stride(from: rank - 2, through: 0, by: -1) {
                let i = rest % outShape[axis]
                rest /= outShape[axis]
                offA += i * sa[axis]
                offB += i * sb[axis]
            }
            let po = o + row * inner
            for j in 0..<inner { po[j] = op(a[offA + j * innerA], b[offB + j * innerB]) }
        }
        return out
    }

    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.binary(rhs, "add") { $0 + $1 } }

    /// self + other written into self's storage, returned: for a residual added to a tensor the
    /// caller has just made and holds alone (the sum of two 134 MB VAE tensors then needs no
    /// third). Same shapes only; the same values as `+`.
    public func addingInPlace(_ other: Tensor) -> Tensor {
        precondition(shape == other.shape, "addingInPlace: shapes \(shape) and \(other.shape) differ")
        let a = data, b = other.data
        Parallel.forRanges(count) { r in for i in r { a[i] = a[i] + b[i] } }
        return self
    }
    /// self[n, c, ...] + bias[n, c] written into self's storage, returned: the time embedding a
    /// ResNet block adds per channel to its first conv's fresh output, without a copy of that
    /// output. self [N, C, ...] held by the caller alone; bias [N, C] or [1, C] (one for every
    /// image). The same values as `+` with bias reshaped to [N or 1, C, 1, ...].
    public func addingPerChannelInPlace(_ bias: Tensor) -> Tensor {
        precondition(shape.count >= 2 && bias.shape.count == 2 && bias.shape[1] == shape[1]
                     && (bias.shape[0] == shape[0] || bias.shape[0] == 1),
                     "addingPerChannelInPlace: bias \(bias.shape) for \(shape)")
        let channels = shape[1], planes = shape[0] * channels, inner = count / max(planes, 1)
        let perImage = bias.shape[0] == 1 ? 0 : channels
        let a = data, b = bias.data
        Parallel.forRanges(planes, grain: max(1, 65_536 / max(inner, 1))) { r in
            for p in r {
                let v = b[(p / channels) * perImage + p % channels], row = a + p * inner
                for j in 0..<inner { row[j] += v }
            }
        }
        return self
    }
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.binary(rhs, "subtract") { $0 - $1 } }
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.binary(rhs, "multiply") { $0 * $1 } }
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.binary(rhs, "divide") { $0 / $1 } }

    public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs.map { $0 + rhs } }
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs.map { $0 - rhs } }
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.map { $0 * rhs } }
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs.map { lhs * $0 } }
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs.map { $0 / rhs } }
    public static prefix func - (x: Tensor) -> Tensor { x.map { -$0 } }

    /// a·x + b·y for equal shapes in one pass (guidance, schedulers).
    public static func linearCombination(_ a: Float, _ x: Tensor, _ b: Float, _ y: Tensor) -> Tensor {
        precondition(x.shape == y.shape, "linearCombination: shapes \(x.shape) and \(y.shape) differ")
        let out = Tensor(uninitializedShape: x.shape)
        let px = x.data, py = y.data, po = out.data
        Parallel.forRanges(out.count) { r in for i in r { po[i] = a * px[i] + b * py[i] } }
        return out
    }

    /// Applies `f` to every element.
    @inline(__always)
    public func map(_ f: (Float) -> Float) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let a = data, o = out.data
        Parallel.forRanges(count) { r in for i in r { o[i] = f(a[i]) } }
        return out
    }
}
