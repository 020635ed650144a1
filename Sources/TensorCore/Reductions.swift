/// Means and sums.
extension Tensor {
    /// Mean of every element (accumulated in Double).
    public func mean() -> Float {
        var sum = 0.0
        for i in 0..<count { sum += Double(data[i]) }
        return count == 0 ? .nan : Float(sum / Double(count))
    }

    /// Mean along `axis`; the axis is kept with size 1 when `keepDims`.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor {
        let ax = axis < 0 ? axis + rank : axis
        precondition(ax >= 0 && ax < rank, "mean axis \(axis) out of range for rank \(rank)")
        let outer = shape[..<ax].reduce(1, *), length = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        var outShape = shape
        if keepDims { outShape[ax] = 1 } else { outShape.remove(at: ax) }
        let out = Tensor(uninitializedShape: outShape)
        let src = data, dst = out.data
        Parallel.forEach(outer, costPerItem: length * inner) { o in
            for i in 0..<inner {
                var sum = 0.0
                for l in 0..<length { sum += Double(src[(o * length + l) * inner + i]) }
                dst[o * inner + i] = length == 0 ? .nan : Float(sum / Double(length))
            }
        }
        return out
    }

    /// Largest absolute element-wise difference (tests and parity checks).
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "maxAbsDifference: shapes \(shape) and \(other.shape) differ")
        var worst: Float = 0
        for i in 0..<count {
            let d = abs(data[i] - other.data[i])
            if d > worst || d.isNaN { worst = d.isNaN ? .infinity : d }
        }
        return worst
    }
}

extension Tensor {
    /// Whether no element is NaN or infinite.
    public var isAllFinite: Bool {
        UnsafeBufferPointer(start: data, count: count).allSatisfy(\.isFinite)
    }
}
