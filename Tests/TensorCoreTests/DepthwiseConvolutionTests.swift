import XCTest
import TensorCore

/// depthwiseConv2d against hand-computed values, against conv2d(groups: C) (an independent
/// im2col + GEMM path), and against a naive loop with per-side padding.
final class DepthwiseConvolutionTests: XCTestCase {

    func testHandComputedTwoChannels() {
        // Channel 0 holds 1...9, channel 1 holds 9...1; kernels [[1,0],[0,1]] and [[0,1],[1,0]].
        // ch0: (1+5, 2+6, 4+8, 5+9) = (6, 8, 12, 14);  ch1: (8+6, 7+5, 5+3, 4+2) = (14, 12, 8, 6).
        let x = Tensor(shape: [1, 2, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1])
        let w = Tensor(shape: [2, 1, 2, 2], values: [1, 0, 0, 1, 0, 1, 1, 0])
        let b = Tensor(shape: [2], values: [0.5, -1])
        assertExact(x.depthwiseConv2d(weight: w, bias: b), [6.5, 8.5, 12.5, 14.5, 13, 11, 7, 5], shape: [1, 2, 2, 2])
    }

    func testAsymmetricSamePaddingStride2HandComputed() {
        // 4x4 input 1...16, 3x3 box kernel, stride 2, TF SAME: padding top/left 0, bottom/right 1.
        // Output (0,0) = 1+2+3+5+6+7+9+10+11 = 54; (0,1) = 3+4+7+8+11+12 = 45;
        // (1,0) = 9+10+11+13+14+15 = 72; (1,1) = 11+12+15+16 = 54.
        let x = Tensor(shape: [1, 1, 4, 4], values: (1...16).map(Float.init))
        let padding = SpatialPadding.same(height: 4, width: 4, kernel: (3, 3), stride: (2, 2))
        XCTAssertEqual(padding, SpatialPadding(top: 0, bottom: 1, left: 0, right: 1))
        let box = Tensor(shape: [1, 1, 3, 3], repeating: 1)
        assertExact(x.depthwiseConv2d(weight: box, stride: (2, 2), padding: padding), [54, 45, 72, 54], shape: [1, 1, 2, 2])
    }

    func testMatchesGroupedConv2dForSymmetricPadding() {
        for (stride, pad, k) in [(1, 1, 3), (2, 1, 3), (1, 2, 5), (2, 0, 3), (3, 1, 3)] {
            let x = random([2, 5, 11, 9], seed: 7)
            let w = random([5, 1, k, k], seed: 8)
            let b = random([5], seed: 9)
            let expected = x.conv2d(weight: w, bias: b, stride: (stride, stride), padding: (pad, pad), groups: 5)
            let actual = x.depthwiseConv2d(weight: w, bias: b, stride: (stride, stride), padding: .uniform(pad))
            assertClose(actual, expected, "stride \(stride) padding \(pad) kernel \(k)")
        }
    }

    func testMatchesNaiveLoopWithPerSidePadding() {
        let x = random([1, 3, 10, 7], seed: 1)
        let w = random([3, 1, 3, 2], seed: 2)
        let padding = SpatialPadding(top: 2, bottom: 0, left: 1, right: 3)
        let actual = x.depthwiseConv2d(weight: w, stride: (2, 1), padding: padding)
        // oh = (10 + 2 − 3)/2 + 1 = 5, ow = (7 + 4 − 2)/1 + 1 = 10.
        XCTAssertEqual(actual.shape, [1, 3, 5, 10])
        var expected: [Double] = []
        for c in 0..<3 {
            for y in 0..<5 {
                for xx in 0..<10 {
                    var s = 0.0
                    for ky in 0..<3 {
                        for kx in 0..<2 {
                            let iy = y * 2 - 2 + ky, ix = xx - 1 + kx
                            guard iy >= 0, iy < 10, ix >= 0, ix < 7 else { continue }
                            s += Double(x[0, c, iy, ix]) * Double(w[c, 0, ky, kx])
                        }
                    }
                    expected.append(s)
                }
            }
        }
        assertClose(actual, expected, shape: [1, 3, 5, 10])
    }

    func testSamePaddingSizes() {
        // BlazeFace: 128 -> 64 with a 5x5 stride-2 stem pads (1, 2); 3x3 stride 1 pads (1, 1).
        XCTAssertEqual(SpatialPadding.same(height: 128, width: 128, kernel: (5, 5), stride: (2, 2)),
                       SpatialPadding(top: 1, bottom: 2, left: 1, right: 2))
        XCTAssertEqual(SpatialPadding.same(height: 16, width: 16, kernel: (3, 3), stride: (1, 1)), .uniform(1))
        XCTAssertEqual(SpatialPadding.same(height: 7, width: 8, kernel: (2, 2), stride: (2, 2)),
                       SpatialPadding(top: 0, bottom: 1, left: 0, right: 0))
    }
}
