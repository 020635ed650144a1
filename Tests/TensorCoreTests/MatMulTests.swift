import XCTest
import TensorCore

/// matmul, batchedMatmul, linear and the BLAS.sgemm entry point.
final class MatMulTests: XCTestCase {

    // MARK: matmul

    func testMatmulHandComputed() {
        // A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]]
        // C[0,0] = 1·7+2·9+3·11 = 58   C[0,1] = 1·8+2·10+3·12 = 64
        // C[1,0] = 4·7+5·9+6·11 = 139  C[1,1] = 4·8+5·10+6·12 = 154
        let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], values: [7, 8, 9, 10, 11, 12])
        assertExact(a.matmul(b), [58, 64, 139, 154], shape: [2, 2])
        // Bᵀ·Aᵀ = (AB)ᵀ = [[58,139],[64,154]]
        assertExact(b.matmul(a, transposeSelf: true, transposeOther: true), [58, 139, 64, 154], shape: [2, 2])
    }

    func testMatmulTransposeFlagsHandComputed() {
        // Same product with the operands stored transposed: Aᵀ stored [3,2], Bᵀ stored [2,3].
        let aT = Tensor(shape: [3, 2], values: [1, 4, 2, 5, 3, 6])
        let bT = Tensor(shape: [2, 3], values: [7, 9, 11, 8, 10, 12])
        let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], values: [7, 8, 9, 10, 11, 12])
        let expected: [Float] = [58, 64, 139, 154]
        assertExact(aT.matmul(b, transposeSelf: true), expected, shape: [2, 2])
        assertExact(a.matmul(bT, transposeOther: true), expected, shape: [2, 2])
        assertExact(aT.matmul(bT, transposeSelf: true, transposeOther: true), expected, shape: [2, 2])
        // Non-square result with transposes: [1,3]ᵀ stored as [3,1] times [1,2]:
        // [[1],[2],[3]]·[[4,5]] = [[4,5],[8,10],[12,15]] (outer product, k = 1).
        let col = Tensor(shape: [1, 3], values: [1, 2, 3])
        let row = Tensor(shape: [1, 2], values: [4, 5])
        assertExact(col.matmul(row, transposeSelf: true), [4, 5, 8, 10, 12, 15], shape: [3, 2])
    }

    func testMatmulAgainstReferenceOddSizes() {
        let sizes = [(1, 1, 1), (1, 7, 1), (3, 5, 7), (7, 1, 3), (17, 33, 3), (33, 17, 1), (1, 33, 17), (5, 2, 33)]
        var seed: UInt64 = 1
        for (m, k, n) in sizes {
            for transA in [false, true] {
                for transB in [false, true] {
                    seed += 1
                    let a = random(transA ? [k, m] : [m, k], seed: seed)
                    let b = random(transB ? [n, k] : [k, n], seed: seed + 1000)
                    let expected = refMatmul(doubles(a), doubles(b), m: m, k: k, n: n, transA: transA, transB: transB)
                    assertClose(a.matmul(b, transposeSelf: transA, transposeOther: transB), expected, shape: [m, n],
                                "m=\(m) k=\(k) n=\(n) transA=\(transA) transB=\(transB)")
                }
            }
        }
    }

    func testMatmulInnerDimensionZeroGivesZeros() {
        // k = 0: an empty sum, every entry is 0 (not left uninitialised).
        for _ in 0..<3 {
            let a = Tensor(shape: [3, 0]), b = Tensor(shape: [0, 4])
            assertExact(a.matmul(b), [Float](repeating: 0, count: 12), shape: [3, 4])
            let aT = Tensor(shape: [0, 3]), bT = Tensor(shape: [4, 0])
            assertExact(aT.matmul(bT, transposeSelf: true, transposeOther: true),
                        [Float](repeating: 0, count: 12), shape: [3, 4])
        }
    }

    func testMatmulEmptyOuterDimensions() {
        XCTAssertEqual(Tensor(shape: [0, 5]).matmul(random([5, 4], seed: 3)).shape, [0, 4])
        XCTAssertEqual(random([3, 5], seed: 3).matmul(Tensor(shape: [5, 0])).shape, [3, 0])
    }

    // MARK: batchedMatmul

    func testBatchedMatmulHandComputed() {
        // Batch 0: [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]
        // Batch 1: identity·[[2,3],[4,5]] = [[2,3],[4,5]]
        let a = Tensor(shape: [2, 2, 2], values: [1, 2, 3, 4, 1, 0, 0, 1])
        let b = Tensor(shape: [2, 2, 2], values: [5, 6, 7, 8, 2, 3, 4, 5])
        assertExact(a.batchedMatmul(b), [19, 22, 43, 50, 2, 3, 4, 5], shape: [2, 2, 2])
        // Shared rank-2 right side S = [[1,1],[0,1]]:
        // [[1,2],[3,4]]·S = [[1,3],[3,7]];  I·S = S
        let s = Tensor(shape: [2, 2], values: [1, 1, 0, 1])
        assertExact(a.batchedMatmul(s), [1, 3, 3, 7, 1, 1, 0, 1], shape: [2, 2, 2])
        // Sᵀ = [[1,0],[1,1]]: [[1,2],[3,4]]·Sᵀ = [[3,2],[7,4]]; I·Sᵀ = Sᵀ
        assertExact(a.batchedMatmul(s, transposeOther: true), [3, 2, 7, 4, 1, 0, 1, 1], shape: [2, 2, 2])
        // transposeSelf: [[1,2],[3,4]]ᵀ·[[5,6],[7,8]] = [[1·5+3·7, 1·6+3·8],[2·5+4·7, 2·6+4·8]] = [[26,30],[38,44]]
        assertExact(a.batchedMatmul(b, transposeSelf: true), [26, 30, 38, 44, 2, 3, 4, 5], shape: [2, 2, 2])
    }

    func testBatchedMatmulAgainstReference() {
        let cases = [(3, 5, 7, 3), (1, 1, 17, 33), (4, 7, 1, 5), (2, 17, 3, 1), (3, 2, 2, 2)]
        var seed: UInt64 = 50
        for (batch, m, k, n) in cases {
            for shared in [false, true] {
                for transA in [false, true] {
                    for transB in [false, true] {
                        seed += 2
                        let a = random(transA ? [batch, k, m] : [batch, m, k], seed: seed)
                        let bShape = transB ? [n, k] : [k, n]
                        let b = random(shared ? bShape : [batch] + bShape, seed: seed + 1)
                        var expected: [Double] = []
                        let av = doubles(a), bv = doubles(b)
                        for i in 0..<batch {
                            let ai = Array(av[(i * m * k)..<((i + 1) * m * k)])
                            let bi = shared ? bv : Array(bv[(i * k * n)..<((i + 1) * k * n)])
                            expected += refMatmul(ai, bi, m: m, k: k, n: n, transA: transA, transB: transB)
                        }
                        assertClose(a.batchedMatmul(b, transposeSelf: transA, transposeOther: transB), expected,
                                    shape: [batch, m, n],
                                    "batch=\(batch) m=\(m) k=\(k) n=\(n) shared=\(shared) tA=\(transA) tB=\(transB)")
                    }
                }
            }
        }
    }

    func testBatchedMatmulEdgeSizes() {
        // k = 0: zeros; batch = 0: empty result.
        assertExact(Tensor(shape: [2, 3, 0]).batchedMatmul(Tensor(shape: [2, 0, 2])),
                    [Float](repeating: 0, count: 12), shape: [2, 3, 2])
        XCTAssertEqual(Tensor(shape: [0, 3, 4]).batchedMatmul(Tensor(shape: [0, 4, 5])).shape, [0, 3, 5])
        XCTAssertEqual(Tensor(shape: [0, 3, 4]).batchedMatmul(Tensor(shape: [4, 5])).shape, [0, 3, 5])
    }

    // MARK: linear

    func testLinearHandComputed() {
        // x = [1,2]; W = [[1,0],[0,1],[1,1]] (out 3, in 2); b = [10,20,30]
        // x·Wᵀ = [1, 2, 3]; + b = [11, 22, 33]
        let x = Tensor(shape: [1, 2], values: [1, 2])
        let w = Tensor(shape: [3, 2], values: [1, 0, 0, 1, 1, 1])
        let b = Tensor(shape: [3], values: [10, 20, 30])
        assertExact(x.linear(weight: w), [1, 2, 3], shape: [1, 3])
        assertExact(x.linear(weight: w, bias: b), [11, 22, 33], shape: [1, 3])
        // Rank-1 input keeps rank 1.
        assertExact(Tensor(shape: [2], values: [1, 2]).linear(weight: w, bias: b), [11, 22, 33], shape: [3])
    }

    func testLinearAgainstReference() {
        let cases: [([Int], Int)] = [([2, 3, 17], 7), ([5], 3), ([1, 1, 1], 1), ([33, 7], 17), ([2, 1, 4, 9], 5)]
        var seed: UInt64 = 200
        for (inShape, outFeatures) in cases {
            seed += 3
            let inFeatures = inShape.last!
            let x = random(inShape, seed: seed)
            let w = random([outFeatures, inFeatures], seed: seed + 1)
            let b = random([outFeatures], seed: seed + 2)
            let rows = product(inShape) / inFeatures
            let plain = refMatmul(doubles(x), doubles(w), m: rows, k: inFeatures, n: outFeatures, transB: true)
            let outShape = Array(inShape.dropLast()) + [outFeatures]
            assertClose(x.linear(weight: w), plain, shape: outShape, "no bias \(inShape)")
            let biased = plain.enumerated().map { $0.element + Double(b.data[$0.offset % outFeatures]) }
            assertClose(x.linear(weight: w, bias: b), biased, shape: outShape, "bias \(inShape)")
        }
    }

    func testLinearZeroInputFeatures() {
        // in = 0: x·Wᵀ is an empty sum, so the output is the bias (or zeros) on every row.
        let x = Tensor(shape: [3, 0])
        let w = Tensor(shape: [2, 0])
        let b = Tensor(shape: [2], values: [1.5, -2])
        assertExact(x.linear(weight: w, bias: b), [1.5, -2, 1.5, -2, 1.5, -2], shape: [3, 2])
        assertExact(x.linear(weight: w), [0, 0, 0, 0, 0, 0], shape: [3, 2])
        // No rows at all.
        XCTAssertEqual(Tensor(shape: [0, 4]).linear(weight: random([3, 4], seed: 9), bias: random([3], seed: 10)).shape, [0, 3])
    }

    // MARK: BLAS.sgemm directly (leading dimensions, alpha, beta)

    func testSgemmLeadingDimensionsAlphaBeta() {
        // A is the top-left 2x2 of a 2x3 buffer (lda 3), B the left 2x2 of a 2x4 buffer (ldb 4),
        // C the middle of a 2x3 buffer (ldc 3) pre-filled with 1.
        // A = [[1,2],[4,5]], B = [[1,2],[3,4]]:
        // A·B = [[1+6, 2+8],[4+15, 8+20]] = [[7,10],[19,28]];  0.5·AB + 2·1 = [[5.5,7],[11.5,16]]
        let a: [Float] = [1, 2, 99, 4, 5, 99]
        let b: [Float] = [1, 2, 99, 99, 3, 4, 99, 99]
        var c: [Float] = [1, 1, 1, 1, 1, 1]
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(m: 2, n: 2, k: 2, alpha: 0.5, a: pa.baseAddress!, lda: 3,
                               b: pb.baseAddress!, ldb: 4, beta: 2, c: pc.baseAddress! + 1, ldc: 3)
                }
            }
        }
        XCTAssertEqual(c, [1, 5.5, 7, 1, 11.5, 16])
    }

    func testSgemmInnerDimensionZeroHonoursBeta() {
        // k = 0: C = beta·C (beta 0 clears even NaN garbage; beta 2 doubles).
        let dummy: [Float] = [0]
        var c: [Float] = [3, .nan, -1, 4]
        dummy.withUnsafeBufferPointer { p in
            c.withUnsafeMutableBufferPointer { pc in
                BLAS.sgemm(m: 2, n: 2, k: 0, a: p.baseAddress!, lda: 1, b: p.baseAddress!, ldb: 2,
                           beta: 0, c: pc.baseAddress!, ldc: 2)
            }
        }
        XCTAssertEqual(c, [0, 0, 0, 0])
        c = [3, 5, -1, 4]
        dummy.withUnsafeBufferPointer { p in
            c.withUnsafeMutableBufferPointer { pc in
                BLAS.sgemm(m: 2, n: 2, k: 0, a: p.baseAddress!, lda: 1, b: p.baseAddress!, ldb: 2,
                           beta: 2, c: pc.baseAddress!, ldc: 2)
            }
        }
        XCTAssertEqual(c, [6, 10, -2, 8])
    }
}
