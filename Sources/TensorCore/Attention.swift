import Dispatch
import Foundation

/// Multi-head scaled dot-product attention.
public enum Attention {
    /// Largest score block one core holds at once (elements): a block of query rows whose
    /// scores stay in cache between the two GEMMs and the softmax (4 MB; 32 MB blocks were
    /// slower, and a fresh block per call faulted in every page).
    public static var maxScoreElements = 1 << 20

    /// softmax(Q Kᵀ · scale [+ causal mask]) V per head.
    ///
    /// - q: [B, Lq, H·D], k: [B, Lk, H·D], v: [B, Lk, H·Dv] (heads packed in the last axis,
    ///   as the projections produce them). Returns [B, Lq, H·Dv].
    /// - causal: query i sees keys 0...i (+ Lk − Lq when the key sequence is longer).
    /// Queries are processed in chunks so the score matrix never exceeds `maxScoreElements`.
    public static func scaledDotProduct(query q: Tensor, key k: Tensor, value v: Tensor, heads: Int,
                                        causal: Bool = false, scale: Float? = nil) -> Tensor {
        precondition(q.rank == 3 && k.rank == 3 && v.rank == 3,
                     "attention needs [B, L, H·D] tensors, got \(q.shape), \(k.shape), \(v.shape)")
        let batch = q.shape[0], lq = q.shape[1], lk = k.shape[1]
        precondition(k.shape[0] == batch && v.shape[0] == batch, "attention batch sizes differ: \(q.shape), \(k.shape), \(v.shape)")
        precondition(v.shape[1] == lk, "attention keys and values differ in length: \(k.shape) vs \(v.shape)")
        precondition(heads > 0 && q.shape[2] % heads == 0 && v.shape[2] % heads == 0,
                     "attention width \(q.shape[2]) / \(v.shape[2]) does not split into \(heads) heads")
        precondition(k.shape[2] == q.shape[2], "attention query and key widths differ: \(q.shape) vs \(k.shape)")
        let width = q.shape[2], headDim = width / heads
        let vWidth = v.shape[2], vHeadDim = vWidth / heads
        let factor = scale ?? 1 / Float(headDim).squareRoot()
        let out = Tensor(uninitializedShape: [batch, lq, vWidth])
        guard lk > 0 else {
            out.data.initialize(repeating: 0, count: out.count)
            return out
        }
        // Each core takes whole (batch, head) pairs: GEMM, softmax and GEMM run back to back
        // on one core with no hand-offs between pools.
        let pairs = batch * heads
        let workers = max(1, min(Parallel.workers, pairs))
        let chunk = max(1, min(lq, maxScoreElements / lk))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let scores = ScratchPool.shared.take(chunk * lk)
            defer { ScratchPool.shared.give(scores) }
            let s = scores.pointer
            for pair in stride(from: worker, to: pairs, by: workers) {
                let b = pair / heads, h = pair % heads
                let qh = q.data + b * lq * width + h * headDim
                let kh = k.data + b * lk * width + h * headDim
                let vh = v.data + b * lk * vWidth + h * vHeadDim
                let oh = out.data + b * lq * vWidth + h * vHeadDim
                var start = 0
                while start < lq {
                    let rows = min(chunk, lq - start)
                    BLAS.sgemm(transB: true, m: rows, n: lk, k: headDim, alpha: factor,
                               a: qh + start * width, lda: width, b: kh, ldb: width,
                               c: s, ldc: lk, split: workers == 1)
                    for r in 0..<rows {
                        let row = s + r * lk
                        if causal {
                            let limit = start + r + (lk - lq)  // last visible key
                            if limit + 1 < lk {
                                for j in max(limit + 1, 0)..<lk { row[j] = -Float.infinity }
                            }
                        }
                        Tensor.softmaxRow(row, lk)
                    }
                    BLAS.sgemm(m: rows, n: vHeadDim, k: lk, a: s, lda: lk, b: vh, ldb: vWidth,
                               c: oh + start * vWidth, ldc: vWidth, split: workers == 1)
                    start += rows
                }
            }
        }
        return out
    }
}
