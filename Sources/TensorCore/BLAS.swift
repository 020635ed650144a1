import Dispatch
import CBLAS

/// The single entry point to cblas_sgemm, row-major.
///
/// C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, with leading dimensions
/// given for the stored (untransposed) layouts.
public enum BLAS {
    /// OpenBLAS runs single-threaded and large products are split over Dispatch instead:
    /// with two thread pools, OpenBLAS's idle workers spin (sched_yield) while Dispatch runs
    /// the non-GEMM work, which cost about a tenth of a UNet pass.
    public static let configured: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// Products smaller than this (m·n·k) are not worth splitting.
    static let splitThreshold = 1 << 21

    @inline(__always)
    public static func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int,
                             alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int,
                             split: Bool = true) {
        _ = configured
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS leaves C untouched for k = 0 only when beta = 1; make beta explicit.
            for row in 0..<m {
                for col in 0..<n { c[row * ldc + col] = beta == 0 ? 0 : beta * c[row * ldc + col] }
            }
            return
        }
        let parts = Parallel.workers
        if split, parts > 1, m * n * k >= splitThreshold, max(m, n) >= 2 * parts {
            // Split C into row blocks (or column blocks when it is wide), one per core.
            let alongRows = m >= n
            let length = alongRows ? m : n
            let per = (length + parts - 1) / parts
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let start = part * per
                let size = min(per, length - start)
                guard size > 0 else { return }
                if alongRows {
                    single(transA, transB, size, n, k, alpha,
                           a + (transA ? start : start * lda), lda, b, ldb, beta, c + start * ldc, ldc)
                } else {
                    single(transA, transB, m, size, k, alpha,
                           a, lda, b + (transB ? start * ldb : start), ldb, beta, c + start, ldc)
                }
            }
        } else {
            single(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        }
    }

    @inline(__always)
    private static func single(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                               _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                               _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
