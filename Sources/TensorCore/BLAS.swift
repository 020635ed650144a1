import CBLAS

/// The single entry point to cblas_sgemm, row-major.
///
/// C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, with leading dimensions
/// given for the stored (untransposed) layouts.
public enum BLAS {
    /// OpenBLAS uses its own pthreads pool; it is set to the same core count as Dispatch.
    public static let configured: Bool = {
        openblas_set_num_threads(Int32(Parallel.workers))
        return true
    }()

    @inline(__always)
    public static func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int,
                             alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = configured
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS leaves C untouched for k = 0 only when beta = 1; make beta explicit.
            for row in 0..<m {
                for col in 0..<n { c[row * ldc + col] = beta == 0 ? 0 : beta * c[row * ldc + col] }
            }
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
