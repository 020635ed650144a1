import XCTest
import TensorCore

/// Element-wise + − × ÷ with NumPy broadcasting, scalar ops, linearCombination, map.
/// Each result is a single Float operation per element, so comparisons are exact
/// (a Float op computed in Double and rounded back gives the identical Float).
final class BroadcastingTests: XCTestCase {

    func testBroadcastShapeRules() {
        XCTAssertEqual(Tensor.broadcastShape([2, 3], [3]), [2, 3])
        XCTAssertEqual(Tensor.broadcastShape([3], [2, 3]), [2, 3])
        XCTAssertEqual(Tensor.broadcastShape([2, 1], [1, 3]), [2, 3])
        XCTAssertEqual(Tensor.broadcastShape([5, 1, 4], [3, 1]), [5, 3, 4])
        XCTAssertEqual(Tensor.broadcastShape([2, 4, 1, 1], [2, 4, 3, 5]), [2, 4, 3, 5])
        XCTAssertEqual(Tensor.broadcastShape([], [2, 2]), [2, 2])
        XCTAssertEqual(Tensor.broadcastShape([], []), [])
        XCTAssertEqual(Tensor.broadcastShape([0, 3], [1, 3]), [0, 3])
        XCTAssertEqual(Tensor.broadcastShape([1], [0]), [0])
        // Incompatible shapes are reported as nil (the operators would trap; not tested by crashing).
        XCTAssertNil(Tensor.broadcastShape([2, 3], [4, 3]))
        XCTAssertNil(Tensor.broadcastShape([3], [4]))
        XCTAssertNil(Tensor.broadcastShape([3, 0], [3]))
        XCTAssertNil(Tensor.broadcastShape([2, 3, 4], [3, 2]))
    }

    func testHandComputed() {
        let m = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let row = Tensor(shape: [3], values: [10, 20, 30])
        // [[1,2,3],[4,5,6]] + [10,20,30] = [[11,22,33],[14,25,36]]
        assertExact(m + row, [11, 22, 33, 14, 25, 36], shape: [2, 3])
        // Operand order matters for − and ÷: [10,20,30] − m = [[9,18,27],[6,15,24]]
        assertExact(row - m, [9, 18, 27, 6, 15, 24], shape: [2, 3])
        assertExact(m - row, [-9, -18, -27, -6, -15, -24], shape: [2, 3])
        // [10,20,30] / m = [[10,10,10],[2.5,4,5]]
        assertExact(row / m, [10, 10, 10, 2.5, 4, 5], shape: [2, 3])
        // Column [2,1] times row [1,3]: outer product [[1,2,3],[2,4,6]]
        let col = Tensor(shape: [2, 1], values: [1, 2])
        let r = Tensor(shape: [1, 3], values: [1, 2, 3])
        assertExact(col * r, [1, 2, 3, 2, 4, 6], shape: [2, 3])
        assertExact(r * col, [1, 2, 3, 2, 4, 6], shape: [2, 3])
        // [N,C,1,1] + [N,C,H,W]: per-channel bias. N=1, C=2, H=1, W=2.
        let bias = Tensor(shape: [1, 2, 1, 1], values: [100, 200])
        let x = Tensor(shape: [1, 2, 1, 2], values: [1, 2, 3, 4])
        assertExact(x + bias, [101, 102, 203, 204], shape: [1, 2, 1, 2])
        assertExact(bias - x, [99, 98, 197, 196], shape: [1, 2, 1, 2])
        // [C] with [N, C]
        assertExact(Tensor(shape: [2], values: [2, 3]) * Tensor(shape: [2, 2], values: [1, 2, 3, 4]),
                    [2, 6, 6, 12], shape: [2, 2])
    }

    func testScalarOperands() {
        let x = Tensor(shape: [2, 2], values: [1, 2, 4, 8])
        // Rank-0 tensors on either side.
        assertExact(x + Tensor.scalar(1), [2, 3, 5, 9], shape: [2, 2])
        assertExact(Tensor.scalar(16) / x, [16, 8, 4, 2], shape: [2, 2])
        assertExact(Tensor.scalar(1) - x, [0, -1, -3, -7], shape: [2, 2])
        assertExact(Tensor.scalar(3) * Tensor.scalar(4), [12], shape: [])
        // Size-1 tensors of higher rank raise the result rank.
        assertExact(x - Tensor(shape: [1, 1, 1], values: [1]), [0, 1, 3, 7], shape: [1, 2, 2])
        assertExact(Tensor(shape: [1], values: [1]) - Tensor(shape: [3], values: [1, 2, 3]), [0, -1, -2], shape: [3])
        // Float scalars.
        assertExact(x + 2, [3, 4, 6, 10], shape: [2, 2])
        assertExact(x - 2, [-1, 0, 2, 6], shape: [2, 2])
        assertExact(x * 0.5, [0.5, 1, 2, 4], shape: [2, 2])
        assertExact(3 * x, [3, 6, 12, 24], shape: [2, 2])
        assertExact(x / 4, [0.25, 0.5, 1, 2], shape: [2, 2])
        assertExact(-x, [-1, -2, -4, -8], shape: [2, 2])
    }

    func testAgainstReference() {
        let pairs: [([Int], [Int])] = [
            ([2, 5, 1, 1], [2, 5, 3, 7]),     // [N,C,1,1] with [N,C,H,W]
            ([2, 5, 3, 7], [1, 5, 1, 1]),
            ([7], [3, 7]),                    // [C] with [N,C]
            ([3, 7], [7]),
            ([3, 1], [1, 17]),                // both sides broadcast
            ([5, 1, 4], [3, 1]),              // different ranks, both broadcast
            ([1, 33], [17, 1]),
            ([2, 3, 1, 5], [3, 4, 1]),
            ([2, 7, 33, 65], [2, 7, 1, 1]),   // 30030 elements: parallel general path
            ([1, 1, 65], [2, 7, 33, 65]),
            ([4, 3], [4, 3]),                 // same shape
            ([17], [1]),                      // single element, rank 1
            ([0, 3], [1, 3]),                 // empty
        ]
        let ops: [(String, (Tensor, Tensor) -> Tensor, (Double, Double) -> Double)] = [
            ("+", { $0 + $1 }, { $0 + $1 }), ("-", { $0 - $1 }, { $0 - $1 }),
            ("*", { $0 * $1 }, { $0 * $1 }), ("/", { $0 / $1 }, { $0 / $1 }),
        ]
        var seed: UInt64 = 1100
        for (sa, sb) in pairs {
            seed += 2
            let a = random(sa, seed: seed), b = random(sb, seed: seed + 1) + 2  // b in [1, 3): safe divisor
            let outShape = Tensor.broadcastShape(sa, sb)!
            for (name, op, ref) in ops {
                let expected = refBroadcast(doubles(a), sa, doubles(b), sb, outShape: outShape, ref)
                assertExact(op(a, b), expected.map { Float($0) }, shape: outShape, "\(sa) \(name) \(sb)")
                let swapped = refBroadcast(doubles(b), sb, doubles(a), sa, outShape: outShape, ref)
                assertExact(op(b, a), swapped.map { Float($0) }, shape: outShape, "\(sb) \(name) \(sa)")
            }
        }
    }

    func testLinearCombination() {
        // 2·[1,2] − 1·[3,4] = [−1, 0]
        let x = Tensor(shape: [2], values: [1, 2]), y = Tensor(shape: [2], values: [3, 4])
        assertExact(Tensor.linearCombination(2, x, -1, y), [-1, 0], shape: [2])
        let a = random([3, 7, 33, 17], seed: 5), b = random([3, 7, 33, 17], seed: 6)
        let ref = zip(doubles(a), doubles(b)).map { 0.75 * $0 - 1.5 * $1 }
        // Two products and a sum in Float: at most a couple of ulps from the exact value.
        assertClose(Tensor.linearCombination(0.75, a, -1.5, b), ref, shape: a.shape, rtol: 1e-6, atol: 1e-7)
    }

    func testMapAndInputsUntouched() {
        let x = random([5, 1000], seed: 8)
        let before = x.scalars
        let squared = x.map { $0 * $0 }
        assertExact(squared, before.map { $0 * $0 }, shape: [5, 1000])
        _ = x + x
        _ = x * 3
        XCTAssertEqual(x.scalars, before)
    }

    func testPerChannelAddInPlaceEqualsTheBroadcastAdd() {
        // [N, C] per image and [1, C] for all, on planes large and small (the grain splits them).
        for (shape, images) in [([2, 5, 9, 7], 2), ([3, 320, 16, 16], 1), ([1, 4, 1, 1], 1)] as [([Int], Int)] {
            let x = random(shape, seed: 11), bias = random([images, shape[1]], seed: 12)
            let expected = (x + bias.reshaped([images, shape[1], 1, 1])).scalars
            let out = Tensor(shape: x.shape, values: x.scalars).addingPerChannelInPlace(bias)
            assertExact(out, expected, shape: shape)
        }
        // Written into its own storage (no copy), as the ResNet block relies on.
        let x = random([2, 3, 4, 4], seed: 13)
        XCTAssertEqual(x.addingPerChannelInPlace(random([2, 3], seed: 14)).data, x.data)
    }
}
