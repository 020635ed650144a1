import XCTest
import TensorCore

/// concat, split, chunked, slice, permuted, transposedLastTwo, upsampleNearest2x, padded, reshaped.
/// All pure data movement: comparisons are exact.
final class ShapeOpsTests: XCTestCase {

    // MARK: concat / split / slice

    func testConcatHandComputed() {
        let a = Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        // axis 0: [[1,2],[3,4]] ++ [[5,6]] = [[1,2],[3,4],[5,6]]
        assertExact(Tensor.concat([a, Tensor(shape: [1, 2], values: [5, 6])], axis: 0), [1, 2, 3, 4, 5, 6], shape: [3, 2])
        // axis 1: [[1,2],[3,4]] ++ [[5],[6]] = [[1,2,5],[3,4,6]]
        let col = Tensor(shape: [2, 1], values: [5, 6])
        assertExact(Tensor.concat([a, col], axis: 1), [1, 2, 5, 3, 4, 6], shape: [2, 3])
        assertExact(Tensor.concat([a, col], axis: -1), [1, 2, 5, 3, 4, 6], shape: [2, 3])
        // Three pieces, one of them empty: [[5],[6]] ++ [2,0] ++ [[1,2],[3,4]] = [[5,1,2],[6,3,4]]
        assertExact(Tensor.concat([col, Tensor(shape: [2, 0]), a], axis: 1), [5, 1, 2, 6, 3, 4], shape: [2, 3])
        // A single tensor comes back unchanged.
        assertExact(Tensor.concat([a], axis: 0), [1, 2, 3, 4], shape: [2, 2])
    }

    func testConcatAgainstReference() {
        // Rank 4 along every axis, pieces of sizes 1, 3, 0, 2 on that axis.
        let base = [2, 3, 5, 7]
        var seed: UInt64 = 1200
        for axis in 0..<4 {
            let sizes = [1, 3, 0, 2]
            let parts: [Tensor] = sizes.map { size in
                var s = base
                s[axis] = size
                seed += 1
                return random(s, seed: seed)
            }
            var outShape = base
            outShape[axis] = sizes.reduce(0, +)
            // Reference: element at idx comes from the piece whose range on `axis` holds idx[axis].
            let expected: [Float] = (0..<product(outShape)).map { flat in
                var idx = unravel(flat, outShape)
                var piece = 0
                while idx[axis] >= sizes[piece] { idx[axis] -= sizes[piece]; piece += 1 }
                return parts[piece].data[ravel(idx, parts[piece].shape)]
            }
            let out = Tensor.concat(parts, axis: axis)
            assertExact(out, expected, shape: outShape, "axis \(axis)")
            // Round trip: split with the same sizes gives the pieces back.
            let back = out.split(sizes: sizes, axis: axis)
            XCTAssertEqual(back.count, parts.count)
            for (p, q) in zip(back, parts) { assertExact(p, q.scalars, shape: q.shape, "split axis \(axis)") }
        }
    }

    func testSplitChunkedSliceHandComputed() {
        // [[0,1,2,3,4],[5,6,7,8,9]]
        let x = Tensor(shape: [2, 5], values: (0..<10).map(Float.init))
        // slice axis 1 from 1, length 3: [[1,2,3],[6,7,8]]
        assertExact(x.slice(axis: 1, start: 1, length: 3), [1, 2, 3, 6, 7, 8], shape: [2, 3])
        assertExact(x.slice(axis: -1, start: 4, length: 1), [4, 9], shape: [2, 1])
        assertExact(x.slice(axis: 0, start: 1, length: 1), [5, 6, 7, 8, 9], shape: [1, 5])
        XCTAssertEqual(x.slice(axis: 1, start: 5, length: 0).shape, [2, 0])
        // split [2, 3] on axis 1: [[0,1],[5,6]] and [[2,3,4],[7,8,9]]
        let parts = x.split(sizes: [2, 3], axis: 1)
        assertExact(parts[0], [0, 1, 5, 6], shape: [2, 2])
        assertExact(parts[1], [2, 3, 4, 7, 8, 9], shape: [2, 3])
        // chunked(2, axis: 0): the two rows
        let rows = x.chunked(2, axis: 0)
        assertExact(rows[0], [0, 1, 2, 3, 4], shape: [1, 5])
        assertExact(rows[1], [5, 6, 7, 8, 9], shape: [1, 5])
        // chunked(5, axis: -1): five columns
        let cols = x.chunked(5, axis: -1)
        XCTAssertEqual(cols.count, 5)
        assertExact(cols[3], [3, 8], shape: [2, 1])
    }

    func testChunkedRoundTrip() {
        let x = random([3, 12, 7], seed: 77)
        for (parts, axis) in [(3, 0), (4, 1), (6, 1), (7, 2), (1, 2), (12, -2)] {
            let pieces = x.chunked(parts, axis: axis)
            XCTAssertEqual(pieces.count, parts)
            let back = Tensor.concat(pieces, axis: axis)
            assertExact(back, x.scalars, shape: x.shape, "chunked(\(parts), axis: \(axis))")
        }
    }

    // MARK: permuted

    func testPermuteHandComputed() {
        // [[1,2,3],[4,5,6]]ᵀ = [[1,4],[2,5],[3,6]]
        let m = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        assertExact(m.permuted([1, 0]), [1, 4, 2, 5, 3, 6], shape: [3, 2])
        assertExact(m.transposedLastTwo(), [1, 4, 2, 5, 3, 6], shape: [3, 2])
        // [2,1,3] → order [2,0,1]: out[k][i][j] = in[i][j][k] → shape [3,2,1]: [[1],[4]],[[2],[5]],[[3],[6]]
        let t = m.reshaped([2, 1, 3])
        assertExact(t.permuted([2, 0, 1]), [1, 4, 2, 5, 3, 6], shape: [3, 2, 1])
        // Identity permutation.
        assertExact(m.permuted([0, 1]), [1, 2, 3, 4, 5, 6], shape: [2, 3])
        // Rank 3, swap last two: batch of two [1,3] rows → [3,1] columns (data unchanged).
        assertExact(t.transposedLastTwo(), [1, 2, 3, 4, 5, 6], shape: [2, 3, 1])
    }

    func testPermuteAllOrdersAgainstReferenceAndRoundTrip() {
        let x = random([2, 3, 5, 7], seed: 1300)
        for order in permutations(4) {
            let out = x.permuted(order)
            let outShape = order.map { x.shape[$0] }
            // Reference: out[idx] = in[j] with j[order[i]] = idx[i].
            let expected: [Float] = (0..<x.count).map { flat in
                let idx = unravel(flat, outShape)
                var src = [Int](repeating: 0, count: 4)
                for i in 0..<4 { src[order[i]] = idx[i] }
                return x.data[ravel(src, x.shape)]
            }
            assertExact(out, expected, shape: outShape, "order \(order)")
            var inverse = [Int](repeating: 0, count: 4)
            for i in 0..<4 { inverse[order[i]] = i }
            assertExact(out.permuted(inverse), x.scalars, shape: x.shape, "round trip \(order)")
        }
    }

    func testPermuteWithUnitAndEmptyAxes() {
        let x = random([1, 4, 1, 3], seed: 5)
        let out = x.permuted([3, 2, 1, 0])
        XCTAssertEqual(out.shape, [3, 1, 4, 1])
        for c in 0..<3 { for b in 0..<4 { XCTAssertEqual(out[c, 0, b, 0], x[0, b, 0, c]) } }
        XCTAssertEqual(Tensor(shape: [2, 0, 3]).permuted([2, 0, 1]).shape, [3, 2, 0])
        XCTAssertEqual(Tensor.scalar(5).permuted([]).scalars, [5])
        // The attention-style head split: [B, L, H, D] → [B, H, L, D] and back.
        let heads = random([2, 5, 3, 4], seed: 6)
        let split = heads.permuted([0, 2, 1, 3])
        XCTAssertEqual(split[1, 2, 4, 3], heads[1, 4, 2, 3])
        assertExact(split.permuted([0, 2, 1, 3]), heads.scalars, shape: heads.shape)
    }

    // MARK: upsample / padded

    func testUpsampleHandComputed() {
        // [[1,2],[3,4]] → [[1,1,2,2],[1,1,2,2],[3,3,4,4],[3,3,4,4]]
        let x = Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4])
        assertExact(x.upsampleNearest2x(), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], shape: [1, 1, 4, 4])
        // Non-square 1x3 plane, two channels: [[1,2,3]], [[4,5,6]]
        let y = Tensor(shape: [1, 2, 1, 3], values: [1, 2, 3, 4, 5, 6])
        assertExact(y.upsampleNearest2x(), [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3,
                                            4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6], shape: [1, 2, 2, 6])
    }

    func testUpsampleAgainstReference() {
        for (seed, shape) in [[2, 3, 5, 7], [1, 1, 1, 1], [1, 17, 3, 1], [3, 2, 33, 9]].enumerated() {
            let x = random(shape, seed: UInt64(seed + 1400))
            let outShape = [shape[0], shape[1], shape[2] * 2, shape[3] * 2]
            let expected: [Float] = (0..<product(outShape)).map { flat in
                let i = unravel(flat, outShape)
                return x[i[0], i[1], i[2] / 2, i[3] / 2]
            }
            assertExact(x.upsampleNearest2x(), expected, shape: outShape, "\(shape)")
        }
    }

    func testPaddedHandComputedAndReference() {
        // [[1,2]] padded top 1, left 2, right 1 → [[0,0,0,0,0],[0,0,1,2,0]]
        let x = Tensor(shape: [1, 1, 1, 2], values: [1, 2])
        assertExact(x.padded(top: 1, left: 2, right: 1), [0, 0, 0, 0, 0, 0, 0, 1, 2, 0], shape: [1, 1, 2, 5])
        let y = random([2, 3, 4, 5], seed: 15)
        let p = y.padded(top: 2, bottom: 1, left: 0, right: 3)
        XCTAssertEqual(p.shape, [2, 3, 7, 8])
        let expected: [Float] = (0..<p.count).map { flat in
            let i = unravel(flat, p.shape)
            let yy = i[2] - 2, xx = i[3]
            return yy >= 0 && yy < 4 && xx < 5 ? y[i[0], i[1], yy, xx] : 0
        }
        assertExact(p, expected, shape: [2, 3, 7, 8])
        assertExact(y.padded(), y.scalars, shape: y.shape)
    }

    // MARK: reshaped / copy / construction

    func testReshapeAndCopy() {
        let x = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let r = x.reshaped([3, -1])
        XCTAssertEqual(r.shape, [3, 2])
        XCTAssertEqual(r.scalars, x.scalars)
        XCTAssertTrue(r.storage === x.storage, "reshape must not copy")
        XCTAssertEqual(x.reshaped([-1]).shape, [6])
        XCTAssertEqual(x.reshaped([1, 6, 1]).shape, [1, 6, 1])
        let c = x.copy()
        XCTAssertFalse(c.storage === x.storage)
        XCTAssertEqual(c.scalars, x.scalars)
        XCTAssertEqual(c.shape, x.shape)
    }

    func testConstructionAndIndexing() {
        let x = Tensor(shape: [2, 3, 4], values: (0..<24).map(Float.init))
        XCTAssertEqual(x[1, 2, 3], 23)
        XCTAssertEqual(x[1, 0, 2], 14)
        XCTAssertEqual(x[flat: 7], 7)
        XCTAssertEqual(x.rank, 3)
        XCTAssertEqual(x.count, 24)
        XCTAssertEqual(Tensor.strides(of: [2, 3, 4]), [12, 4, 1])
        XCTAssertEqual(Tensor.strides(of: []), [])
        XCTAssertEqual(Tensor(shape: [2, 2], repeating: 1.5).scalars, [1.5, 1.5, 1.5, 1.5])
        XCTAssertEqual(Tensor(shape: [3]).scalars, [0, 0, 0])
        let s = Tensor.scalar(4)
        XCTAssertEqual(s.shape, [])
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(s[], 4)
        let empty = Tensor(shape: [0, 3], values: [])
        XCTAssertEqual(empty.count, 0)
        XCTAssertEqual(empty.scalars, [])
    }

    func testSeededUniform() {
        let a = Tensor.seededUniform(shape: [10_000], seed: 7, scale: 2)
        let b = Tensor.seededUniform(shape: [10_000], seed: 7, scale: 2)
        let c = Tensor.seededUniform(shape: [10_000], seed: 8, scale: 2)
        XCTAssertEqual(a.scalars, b.scalars, "same seed, same values")
        XCTAssertNotEqual(a.scalars, c.scalars)
        XCTAssertTrue(a.scalars.allSatisfy { $0 >= -2 && $0 < 2 })
        // Uniform on [−2, 2): mean ≈ 0 (σ/√n ≈ 0.012), mean of squares ≈ 4/3.
        XCTAssertEqual(a.mean(), 0, accuracy: 0.05)
        XCTAssertEqual((a * a).mean(), 4.0 / 3, accuracy: 0.05)
    }
}
