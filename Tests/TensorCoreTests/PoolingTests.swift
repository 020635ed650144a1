import XCTest
import TensorCore

final class PoolingTests: XCTestCase {

    func testMaxPool2x2HandComputed() {
        // [[1, 5, 2, 0], [3, -1, 7, 8], [-4, -2, 6, 6], [-3, -9, 1, 9]] -> [[5, 8], [-2, 9]]
        let x = Tensor(shape: [1, 1, 4, 4], values: [1, 5, 2, 0, 3, -1, 7, 8, -4, -2, 6, 6, -3, -9, 1, 9])
        assertExact(x.maxPool2d(kernel: (2, 2)), [5, 8, -2, 9], shape: [1, 1, 2, 2])
    }

    func testPaddingNeverWinsOverNegativeValues() {
        // 3x3 of negatives, 2x2 windows, stride 2, SAME: padding bottom/right 1. The lone
        // last row/column windows must give the real (negative) values, not the padding's 0.
        let x = Tensor(shape: [1, 1, 3, 3], values: [-1, -2, -3, -4, -5, -6, -7, -8, -9])
        let padding = SpatialPadding.same(height: 3, width: 3, kernel: (2, 2), stride: (2, 2))
        assertExact(x.maxPool2d(kernel: (2, 2), stride: (2, 2), padding: padding), [-1, -3, -7, -9], shape: [1, 1, 2, 2])
    }

    func testOverlappingWindowsPerPlane() {
        let x = random([2, 3, 6, 5], seed: 3)
        let y = x.maxPool2d(kernel: (3, 2), stride: (1, 2))
        XCTAssertEqual(y.shape, [2, 3, 4, 2])
        for p in 0..<2 {
            for c in 0..<3 {
                for oy in 0..<4 {
                    for ox in 0..<2 {
                        var best = -Float.infinity
                        for ky in 0..<3 { for kx in 0..<2 { best = max(best, x[p, c, oy + ky, ox * 2 + kx]) } }
                        XCTAssertEqual(y[p, c, oy, ox], best)
                    }
                }
            }
        }
    }
}
