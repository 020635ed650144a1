/// Concatenation, splitting, permutation, slicing and nearest upsampling.
extension Tensor {
    /// Joins tensors along `axis`; all other dimensions must match.
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat of no tensors")
        let first = tensors[0]
        let ax = axis < 0 ? axis + first.rank : axis
        precondition(ax >= 0 && ax < first.rank, "concat axis \(axis) out of range for rank \(first.rank)")
        for t in tensors {
            precondition(t.rank == first.rank, "concat: ranks differ (\(first.shape) vs \(t.shape))")
            for i in 0..<t.rank where i != ax {
                precondition(t.shape[i] == first.shape[i], "concat: shapes \(first.shape) and \(t.shape) differ off axis \(ax)")
            }
        }
        var outShape = first.shape
        outShape[ax] = tensors.reduce(0) { $0 + $1.shape[ax] }
        let out = Tensor(uninitializedShape: outShape)
        let outer = first.shape[..<ax].reduce(1, *)
        let inner = first.shape[(ax + 1)...].reduce(1, *)
        let outRow = outShape[ax] * inner
        var offset = 0
        for t in tensors {
            let run = t.shape[ax] * inner
            for o in 0..<outer {
                (out.data + o * outRow + offset).update(from: t.data + o * run, count: run)
            }
            offset += run
        }
        return out
    }

    /// Splits along `axis` into pieces of the given sizes (which must add up).
    public func split(sizes: [Int], axis: Int) -> [Tensor] {
        let ax = axis < 0 ? axis + rank : axis
        precondition(ax >= 0 && ax < rank, "split axis \(axis) out of range for rank \(rank)")
        precondition(sizes.reduce(0, +) == shape[ax] && sizes.allSatisfy { $0 >= 0 },
                     "split sizes \(sizes) do not add up to \(shape[ax])")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: ax, start: start, length: size)
        }
    }

    /// Splits along `axis` into `parts` equal pieces.
    public func chunked(_ parts: Int, axis: Int) -> [Tensor] {
        let ax = axis < 0 ? axis + rank : axis
        precondition(parts > 0 && shape[ax] % parts == 0, "cannot split \(shape[ax]) into \(parts) equal parts")
        return split(sizes: Array(repeating: shape[ax] / parts, count: parts), axis: ax)
    }

    /// A copy of `length` entries from `start` along `axis`.
    public func slice(axis: Int, start: Int, length: Int) -> Tensor {
        let ax = axis < 0 ? axis + rank : axis
        precondition(ax >= 0 && ax < rank, "slice axis \(axis) out of range for rank \(rank)")
        precondition(start >= 0 && length >= 0 && start + length <= shape[ax],
                     "slice \(start)..<\(start + length) out of range for axis \(ax) of \(shape)")
        var outShape = shape
        outShape[ax] = length
        let out = Tensor(uninitializedShape: outShape)
        let outer = shape[..<ax].reduce(1, *)
        let inner = shape[(ax + 1)...].reduce(1, *)
        for o in 0..<outer {
            (out.data + o * length * inner).update(from: data + (o * shape[ax] + start) * inner, count: length * inner)
        }
        return out
    }

    /// Reorders axes: output axis i is input axis `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permutation \(order) invalid for rank \(rank)")
        if order == Array(0..<rank) { return self }
        let outShape = order.map { shape[$0] }
        let inStrides = Tensor.strides(of: shape)
        let srcStrides = order.map { inStrides[$0] }
        let out = Tensor(uninitializedShape: outShape)
        let inner = outShape.last ?? 1
        let innerStride = srcStrides.last ?? 1
        let rows = count / max(inner, 1)
        let src = data, dst = out.data
        Parallel.forEach(rows, costPerItem: inner) { row in
            var rest = row, offset = 0
            for axis in stride(from: outShape.count - 2, through: 0, by: -1) {
                offset += (rest % outShape[axis]) * srcStrides[axis]
                rest /= outShape[axis]
            }
            let line = dst + row * inner
            for j in 0..<inner { line[j] = src[offset + j * innerStride] }
        }
        return out
    }

    /// Swaps the last two axes.
    public func transposedLastTwo() -> Tensor {
        precondition(rank >= 2, "transpose needs rank >= 2, got \(shape)")
        var order = Array(0..<rank)
        order.swapAt(rank - 1, rank - 2)
        return permuted(order)
    }

    /// Nearest-neighbour 2x upsampling of [N, C, H, W].
    public func upsampleNearest2x() -> Tensor {
        precondition(rank == 4, "upsampleNearest2x needs [N, C, H, W], got \(shape)")
        let planes = shape[0] * shape[1], h = shape[2], w = shape[3]
        let out = Tensor(uninitializedShape: [shape[0], shape[1], 2 * h, 2 * w])
        let src = data, dst = out.data
        Parallel.forEach(planes * h, costPerItem: 4 * w) { index in
            let s = src + index * w
            let d = dst + index * 4 * w  // row y of plane p starts at (p·2h + 2y)·2w
            for x in 0..<w {
                d[2 * x] = s[x]
                d[2 * x + 1] = s[x]
            }
            (d + 2 * w).update(from: d, count: 2 * w)
        }
        return out
    }

    /// Nearest-neighbour resize of [N, C, H, W] to `height` x `width`, with PyTorch's
    /// `interpolate(mode="nearest", size=...)` rule (source = floor(dst · in/out)): the UNet's
    /// up path uses it when an odd latent side made the skip one pixel larger than 2x.
    public func upsampleNearest(height outH: Int, width outW: Int) -> Tensor {
        precondition(rank == 4, "upsampleNearest needs [N, C, H, W], got \(shape)")
        let planes = shape[0] * shape[1], h = shape[2], w = shape[3]
        if outH == 2 * h && outW == 2 * w { return upsampleNearest2x() }
        let rowScale = Float(h) / Float(outH), columnScale = Float(w) / Float(outW)
        let sourceColumn = (0..<outW).map { min(Int((Float($0) * columnScale).rounded(.down)), w - 1) }
        let out = Tensor(uninitializedShape: [shape[0], shape[1], outH, outW])
        let src = data, dst = out.data
        Parallel.forEach(planes * outH, costPerItem: 2 * outW) { index in
            let plane = index / outH, y = index % outH
            let sourceRow = min(Int((Float(y) * rowScale).rounded(.down)), h - 1)
            let s = src + (plane * h + sourceRow) * w
            let d = dst + index * outW
            for x in 0..<outW { d[x] = s[sourceColumn[x]] }
        }
        return out
    }
}
