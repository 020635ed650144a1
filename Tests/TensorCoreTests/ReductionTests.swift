import XCTest
import TensorCore

/// mean(), mean(axis:keepDims:), maxAbsDifference, and the Parallel helpers.
final class ReductionTests: XCTestCase {

    func testMeanHandComputed() {
        XCTAssertEqual(Tensor(shape: [4], values: [1, 2, 3, 4]).mean(), 2.5)
        XCTAssertEqual(Tensor.scalar(-3).mean(), -3)
        XCTAssertTrue(Tensor(shape: [0]).mean().isNaN)
        // Accumulated in Double: 1e8 + 1 + 1 + … does not lose the ones.
        var values = [Float](repeating: 1, count: 1000)
        values[0] = 1e8
        XCTAssertEqual(Tensor(shape: [1000], values: values).mean(), (1e8 + 999) / 1000)
    }

    func testMeanAxisHandComputed() {
        // [[1,2,3],[4,5,6]]
        let x = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        assertExact(x.mean(axis: 0), [2.5, 3.5, 4.5], shape: [3])
        assertExact(x.mean(axis: 1), [2, 5], shape: [2])
        assertExact(x.mean(axis: -1), [2, 5], shape: [2])
        assertExact(x.mean(axis: 0, keepDims: true), [2.5, 3.5, 4.5], shape: [1, 3])
        assertExact(x.mean(axis: 1, keepDims: true), [2, 5], shape: [2, 1])
        assertExact(x.mean(axis: -2, keepDims: true), [2.5, 3.5, 4.5], shape: [1, 3])
        // Middle axis of [2,2,2]: [[[1,2],[3,4]],[[5,6],[7,8]]] → [[2,3],[6,7]]
        let y = Tensor(shape: [2, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8])
        assertExact(y.mean(axis: 1), [2, 3, 6, 7], shape: [2, 2])
        assertExact(y.mean(axis: 1, keepDims: true), [2, 3, 6, 7], shape: [2, 1, 2])
    }

    func testMeanAxisAgainstReference() {
        let x = random([3, 5, 7, 2], seed: 1500, scale: 10)
        let xv = doubles(x)
        for axis in 0..<4 {
            var reduced = x.shape
            reduced[axis] = 1
            var sums = [Double](repeating: 0, count: product(reduced))
            for flat in 0..<x.count {
                var idx = unravel(flat, x.shape)
                idx[axis] = 0
                sums[ravel(idx, reduced)] += xv[flat]
            }
            // Double accumulation then one rounding: equal to the reference rounded to Float.
            let expected = sums.map { Float($0 / Double(x.shape[axis])) }
            assertExact(x.mean(axis: axis, keepDims: true), expected, shape: reduced, "axis \(axis) keepDims")
            var dropped = x.shape
            dropped.remove(at: axis)
            assertExact(x.mean(axis: axis), expected, shape: dropped, "axis \(axis)")
            assertExact(x.mean(axis: axis - 4), expected, shape: dropped, "axis \(axis - 4)")
        }
        // Overall mean too.
        XCTAssertEqual(x.mean(), Float(xv.reduce(0, +) / Double(xv.count)))
    }

    func testMeanOverUnitAndEmptyAxes() {
        let x = random([3, 1, 4], seed: 3)
        assertExact(x.mean(axis: 1), x.scalars, shape: [3, 4])
        XCTAssertEqual(Tensor(shape: [0, 4]).mean(axis: 0).shape, [4])
        XCTAssertTrue(Tensor(shape: [0, 4]).mean(axis: 0).scalars.allSatisfy { $0.isNaN })
        XCTAssertEqual(Tensor(shape: [0, 4]).mean(axis: 1).shape, [0])
    }

    func testMaxAbsDifference() {
        let a = Tensor(shape: [3], values: [1, 2, 3])
        XCTAssertEqual(a.maxAbsDifference(a), 0)
        XCTAssertEqual(a.maxAbsDifference(Tensor(shape: [3], values: [1, 4.5, 2])), 2.5)
        XCTAssertEqual(a.maxAbsDifference(Tensor(shape: [3], values: [1, .nan, 3])), .infinity)
    }

    // MARK: Parallel

    func testParallelForRangesCoversEveryIndexOnce() {
        for (count, grain) in [(0, 1), (1, 1), (7, 1), (4096, 4096), (100_003, 7), (50_000, 4096), (33, 100)] {
            let hits = UnsafeMutablePointer<Int32>.allocate(capacity: max(count, 1))
            hits.initialize(repeating: 0, count: max(count, 1))
            defer { hits.deallocate() }
            Parallel.forRanges(count, grain: grain) { r in for i in r { hits[i] += 1 } }
            XCTAssertTrue((0..<count).allSatisfy { hits[$0] == 1 }, "count \(count) grain \(grain)")
        }
    }

    func testParallelForEachCoversEveryIndexOnce() {
        for (count, cost) in [(0, 1), (1, 1000), (17, 100_000), (100_000, 1), (3333, 33)] {
            let hits = UnsafeMutablePointer<Int32>.allocate(capacity: max(count, 1))
            hits.initialize(repeating: 0, count: max(count, 1))
            defer { hits.deallocate() }
            Parallel.forEach(count, costPerItem: cost) { i in hits[i] += 1 }
            XCTAssertTrue((0..<count).allSatisfy { hits[$0] == 1 }, "count \(count) cost \(cost)")
        }
        XCTAssertGreaterThanOrEqual(Parallel.workers, 1)
    }
}
