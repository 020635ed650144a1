/// Matrix products, all through `BLAS.sgemm`.
extension Tensor {
    /// [m,k] x [k,n] -> [m,n]; `transposeSelf`/`transposeOther` use the stored
    /// matrices transposed without copying them.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "matmul needs rank-2 tensors, got \(shape) and \(other.shape)")
        let m = transposeSelf ? shape[1] : shape[0]
        let k = transposeSelf ? shape[0] : shape[1]
        let k2 = transposeOther ? other.shape[1] : other.shape[0]
        let n = transposeOther ? other.shape[0] : other.shape[1]
        precondition(k == k2, "matmul inner dimensions differ: \(shape) x \(other.shape)")
        let out = Tensor(uninitializedShape: [m, n])
        BLAS.sgemm(transA: transposeSelf, transB: transposeOther, m: m, n: n, k: k,
                   a: data, lda: shape[1], b: other.data, ldb: other.shape[1], c: out.data, ldc: n)
        return out
    }

    /// [b,m,k] x [b,k,n] -> [b,m,n]. A rank-2 `other` is shared by every batch.
    public func batchedMatmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        precondition(rank == 3, "batchedMatmul needs a rank-3 left side, got \(shape)")
        precondition(other.rank == 3 || other.rank == 2, "batchedMatmul right side must be rank 2 or 3, got \(other.shape)")
        let batch = shape[0]
        let shared = other.rank == 2
        precondition(shared || other.shape[0] == batch, "batch sizes differ: \(shape) x \(other.shape)")
        let rows = shape[1], cols = shape[2]
        let oRows = other.shape[other.rank - 2], oCols = other.shape[other.rank - 1]
        let m = transposeSelf ? cols : rows
        let k = transposeSelf ? rows : cols
        let k2 = transposeOther ? oCols : oRows
        let n = transposeOther ? oRows : oCols
        precondition(k == k2, "batchedMatmul inner dimensions differ: \(shape) x \(other.shape)")
        let out = Tensor(uninitializedShape: [batch, m, n])
        for b in 0..<batch {
            BLAS.sgemm(transA: transposeSelf, transB: transposeOther, m: m, n: n, k: k,
                       a: data + b * rows * cols, lda: cols,
                       b: other.data + (shared ? 0 : b * oRows * oCols), ldb: oCols,
                       c: out.data + b * m * n, ldc: n)
        }
        return out
    }

    /// PyTorch's Linear: x[..., in] · weight[out, in]ᵀ + bias[out] -> [..., out].
    public func linear(weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
        let inFeatures = weight.shape[1], outFeatures = weight.shape[0]
        precondition(rank >= 1 && shape[rank - 1] == inFeatures,
                     "linear expects last dimension \(inFeatures), got input \(shape)")
        let rows = shape.dropLast().reduce(1, *)  // not count / inFeatures: that is 0 when inFeatures == 0
        var outShape = shape
        outShape[rank - 1] = outFeatures
        let out = Tensor(uninitializedShape: outShape)
        if let bias {
            precondition(bias.count == outFeatures, "linear bias must have \(outFeatures) values, got \(bias.shape)")
            // Pre-fill rows with the bias and let sgemm accumulate (beta = 1).
            for r in 0..<rows { (out.data + r * outFeatures).update(from: bias.data, count: outFeatures) }
        }
        BLAS.sgemm(transB: true, m: rows, n: outFeatures, k: inFeatures,
                   a: data, lda: inFeatures, b: weight.data, ldb: inFeatures,
                   beta: bias == nil ? 0 : 1, c: out.data, ldc: outFeatures)
        return out
    }
}
