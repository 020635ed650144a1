import XCTest
import TensorCore

/// Attention.scaledDotProduct: heads packed in the last axis, causal masks, chunking.
final class AttentionTests: XCTestCase {

    func testHandComputedSingleHead() {
        // One query q = 1, keys [1, 2], values [10, 20], scale 1:
        // scores [1, 2] → weights [1/(1+e), e/(1+e)] = [0.2689414, 0.7310586]
        // output = 10·0.2689414 + 20·0.7310586 = 17.310586
        let q = Tensor(shape: [1, 1, 1], values: [1])
        let k = Tensor(shape: [1, 2, 1], values: [1, 2])
        let v = Tensor(shape: [1, 2, 1], values: [10, 20])
        let out = Attention.scaledDotProduct(query: q, key: k, value: v, heads: 1, scale: 1)
        assertClose(out, [17.31058578630005], shape: [1, 1, 1])
        // q = 0: equal scores → plain mean 15.
        let zero = Attention.scaledDotProduct(query: Tensor(shape: [1, 1, 1], values: [0]), key: k, value: v, heads: 1)
        assertClose(zero, [15], shape: [1, 1, 1])
    }

    func testDefaultScaleIsInverseSqrtHeadDim() {
        // D = 4, q = k0 = [1,1,1,1], k1 = 0: q·k0 = 4, scaled by 1/√4 → 2; q·k1 = 0.
        // weights [e²/(e²+1), 1/(e²+1)] = [0.8807971, 0.1192029]; values [1], [0] → 0.8807971.
        // (Scale 1 would give 0.98201, scale 1/4 would give 0.7310586.)
        let q = Tensor(shape: [1, 1, 4], values: [1, 1, 1, 1])
        let k = Tensor(shape: [1, 2, 4], values: [1, 1, 1, 1, 0, 0, 0, 0])
        let v = Tensor(shape: [1, 2, 1], values: [1, 0])
        assertClose(Attention.scaledDotProduct(query: q, key: k, value: v, heads: 1),
                    [0.8807970779778823], shape: [1, 1, 1])
    }

    func testHandComputedTwoHeads() {
        // H = 2, D = 1, Dv = 1. Query [h0: 1, h1: 0]; keys k0 = [h0: 0, h1: 5], k1 = [h0: 1, h1: 5];
        // values v0 = [h0: 0, h1: 2], v1 = [h0: 1, h1: 4]; scale 1.
        // head 0: scores [0, 1] → weights [0.2689414, 0.7310586] → output 0.7310586
        // head 1: scores [0, 0] → mean of [2, 4] = 3
        let q = Tensor(shape: [1, 1, 2], values: [1, 0])
        let k = Tensor(shape: [1, 2, 2], values: [0, 5, 1, 5])
        let v = Tensor(shape: [1, 2, 2], values: [0, 2, 1, 4])
        assertClose(Attention.scaledDotProduct(query: q, key: k, value: v, heads: 2, scale: 1),
                    [0.7310585786300049, 3], shape: [1, 1, 2])
    }

    func testHandComputedCausal() {
        // Lq = Lk = 3, all scores equal (q = 0), values [10, 20, 60]:
        // query 0 sees key 0 → 10; query 1 sees keys 0,1 → 15; query 2 sees all → 30.
        let q = Tensor(shape: [1, 3, 1], repeating: 0)
        let k = random([1, 3, 1], seed: 1)
        let v = Tensor(shape: [1, 3, 1], values: [10, 20, 60])
        assertClose(Attention.scaledDotProduct(query: q, key: k, value: v, heads: 1, causal: true),
                    [10, 15, 30], shape: [1, 3, 1])
        // Lq = 2 < Lk = 3 (bottom-right aligned): query 0 sees keys 0,1 → 15; query 1 sees all → 30.
        let q2 = Tensor(shape: [1, 2, 1], repeating: 0)
        assertClose(Attention.scaledDotProduct(query: q2, key: k, value: v, heads: 1, causal: true),
                    [15, 30], shape: [1, 2, 1])
        // Lq = 1: the single query sees every key (the usual incremental-decoding case).
        let q1 = Tensor(shape: [1, 1, 1], repeating: 0)
        assertClose(Attention.scaledDotProduct(query: q1, key: k, value: v, heads: 1, causal: true),
                    [30], shape: [1, 1, 1])
    }

    struct Case {
        var batch, lq, lk, heads, d, dv: Int
        var causal: Bool
        var scale: Float? = nil
    }

    static let cases: [Case] = [
        Case(batch: 2, lq: 5, lk: 7, heads: 3, d: 4, dv: 2, causal: false),
        Case(batch: 1, lq: 7, lk: 7, heads: 2, d: 8, dv: 8, causal: true),
        Case(batch: 2, lq: 3, lk: 7, heads: 1, d: 5, dv: 3, causal: true),    // Lq < Lk
        Case(batch: 1, lq: 7, lk: 3, heads: 2, d: 4, dv: 4, causal: true),    // Lq > Lk: first rows see nothing
        Case(batch: 1, lq: 1, lk: 1, heads: 1, d: 1, dv: 1, causal: false),
        Case(batch: 1, lq: 17, lk: 33, heads: 4, d: 3, dv: 5, causal: false),
        Case(batch: 3, lq: 17, lk: 17, heads: 5, d: 7, dv: 7, causal: true),
        Case(batch: 1, lq: 6, lk: 9, heads: 2, d: 6, dv: 4, causal: false, scale: 0.3),
        Case(batch: 1, lq: 33, lk: 17, heads: 1, d: 16, dv: 16, causal: false),
    ]

    func run(_ c: Case, seed: UInt64) -> (Tensor, [Double]) {
        let q = random([c.batch, c.lq, c.heads * c.d], seed: seed, scale: 2)
        let k = random([c.batch, c.lk, c.heads * c.d], seed: seed + 1, scale: 2)
        let v = random([c.batch, c.lk, c.heads * c.dv], seed: seed + 2)
        let out = Attention.scaledDotProduct(query: q, key: k, value: v, heads: c.heads, causal: c.causal, scale: c.scale)
        let ref = refAttention(q: doubles(q), k: doubles(k), v: doubles(v), batch: c.batch, lq: c.lq, lk: c.lk,
                               heads: c.heads, d: c.d, dv: c.dv, causal: c.causal, scale: c.scale.map(Double.init))
        return (out, ref)
    }

    func testAgainstReference() {
        var seed: UInt64 = 900
        for c in Self.cases {
            seed += 3
            let (out, ref) = run(c, seed: seed)
            assertClose(out, ref, shape: [c.batch, c.lq, c.heads * c.dv], "\(c)")
        }
    }

    func testCausalWithMoreQueriesThanKeysZeroesUnseeingRows() {
        // Lq = 5, Lk = 2: query i sees keys j ≤ i − 3, so queries 0, 1, 2 see nothing → 0;
        // query 3 sees key 0 only → v0; query 4 sees both.
        let q = random([1, 5, 2], seed: 3), k = random([1, 2, 2], seed: 4)
        let v = Tensor(shape: [1, 2, 1], values: [7, -1])
        let out = Attention.scaledDotProduct(query: q, key: k, value: v, heads: 1, causal: true)
        XCTAssertEqual(Array(out.scalars[0..<3]), [0, 0, 0])
        XCTAssertEqual(out.scalars[3], 7, accuracy: 1e-6)
        XCTAssertTrue(out.scalars[4] > -1 && out.scalars[4] < 7)
    }

    func testChunkingMatchesUnchunked() {
        // Force the query loop into chunks (1 row, 2 rows, 3 rows — the last chunk partial)
        // and compare with the single-chunk result.
        let saved = Attention.maxScoreElements
        defer { Attention.maxScoreElements = saved }
        var seed: UInt64 = 1000
        for c in Self.cases where c.lq > 1 {
            seed += 3
            Attention.maxScoreElements = saved
            let (whole, ref) = run(c, seed: seed)
            for rowsPerChunk in [1, 2, 3] {
                Attention.maxScoreElements = rowsPerChunk * c.lk + (rowsPerChunk > 1 ? c.lk - 1 : 0)
                let (chunked, _) = run(c, seed: seed)
                assertClose(chunked, whole, rtol: 1e-6, atol: 1e-6, "\(c) rows per chunk \(rowsPerChunk)")
                assertClose(chunked, ref, shape: whole.shape, "\(c) rows per chunk \(rowsPerChunk) vs reference")
            }
            // Smaller than one row still makes progress (one row per chunk).
            Attention.maxScoreElements = 1
            let (tiny, _) = run(c, seed: seed)
            assertClose(tiny, whole, rtol: 1e-6, atol: 1e-6, "\(c) maxScoreElements 1")
        }
    }

    func testEmptySequences() {
        // No keys: every output is 0. No queries: empty output.
        let q = random([2, 3, 4], seed: 1)
        let out = Attention.scaledDotProduct(query: q, key: Tensor(shape: [2, 0, 4]), value: Tensor(shape: [2, 0, 6]),
                                             heads: 2)
        assertExact(out, [Float](repeating: 0, count: 36), shape: [2, 3, 6])
        let none = Attention.scaledDotProduct(query: Tensor(shape: [1, 0, 4]), key: random([1, 3, 4], seed: 2),
                                              value: random([1, 3, 4], seed: 3), heads: 1, causal: true)
        XCTAssertEqual(none.shape, [1, 0, 4])
    }

    func testHeadsAreIndependent() {
        // Changing head 1's keys (differently per key, so the scores do not just shift by a
        // constant, which softmax would ignore) must leave head 0's output alone.
        let q = random([1, 4, 6], seed: 10), v = random([1, 5, 6], seed: 11)
        let k1 = random([1, 5, 6], seed: 12)
        var kv = k1.scalars
        for j in 0..<5 { for e in 3..<6 { kv[j * 6 + e] *= Float(j) - 1.5 } }
        let k2 = Tensor(shape: [1, 5, 6], values: kv)
        let a = Attention.scaledDotProduct(query: q, key: k1, value: v, heads: 2)
        let b = Attention.scaledDotProduct(query: q, key: k2, value: v, heads: 2)
        for i in 0..<4 {
            for e in 0..<3 { XCTAssertEqual(a[0, i, e], b[0, i, e]) }
        }
        XCTAssertGreaterThan(a.maxAbsDifference(b), 1e-3)
    }
}
