import XCTest
import TensorCore

/// conv2d: im2col path, 1x1 GEMM path, groups, stride, padding, bias.
final class ConvolutionTests: XCTestCase {

    /// Input 1x1x3x3 holding 1...9 row by row.
    let nine = Tensor(shape: [1, 1, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9])

    func testConvHandComputed2x2() {
        // Kernel [[1,2],[3,4]] over [[1,2,3],[4,5,6],[7,8,9]], no padding:
        // (0,0) 1·1+2·2+4·3+5·4 = 37   (0,1) 2·1+3·2+5·3+6·4 = 47
        // (1,0) 4·1+5·2+7·3+8·4 = 67   (1,1) 5·1+6·2+8·3+9·4 = 77
        let w = Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4])
        assertExact(nine.conv2d(weight: w), [37, 47, 67, 77], shape: [1, 1, 2, 2])
        assertExact(nine.conv2d(weight: w, bias: Tensor(shape: [1], values: [0.5])),
                    [37.5, 47.5, 67.5, 77.5], shape: [1, 1, 2, 2])
    }

    func testConvHandComputedPaddingAndStride() {
        // 3x3 box filter with padding 1 = sum of the 3x3 neighbourhood (zeros outside):
        // [[1+2+4+5, 1+..+6, 2+3+5+6], [1+2+4+5+7+8, 45, 2+3+5+6+8+9], [4+5+7+8, 4+..+9, 5+6+8+9]]
        let box = Tensor(shape: [1, 1, 3, 3], repeating: 1)
        assertExact(nine.conv2d(weight: box, padding: (1, 1)),
                    [12, 21, 16, 27, 45, 33, 24, 39, 28], shape: [1, 1, 3, 3])
        // Stride 2 keeps the corners of that map: oh = (3 + 2 − 3)/2 + 1 = 2.
        assertExact(nine.conv2d(weight: box, stride: (2, 2), padding: (1, 1)),
                    [12, 16, 24, 28], shape: [1, 1, 2, 2])
        // Padding 2 with a 1x1 kernel: the input framed by two rings of zeros (7x7 output).
        let one = Tensor(shape: [1, 1, 1, 1], values: [2])
        let framed = nine.conv2d(weight: one, padding: (2, 2))
        XCTAssertEqual(framed.shape, [1, 1, 7, 7])
        XCTAssertEqual(framed[0, 0, 2, 2], 2)
        XCTAssertEqual(framed[0, 0, 4, 4], 18)
        XCTAssertEqual(framed[0, 0, 0, 3], 0)
        XCTAssertEqual(framed[0, 0, 3, 6], 0)
        XCTAssertEqual(framed.scalars.reduce(0, +), 2 * 45)
    }

    func testConvHandComputed1x1WithBias() {
        // Input 1x2x1x2: channel 0 = [1,2], channel 1 = [3,4].
        // W = [[1,1],[2,-1],[0,0.5]], b = [0,1,-1]:
        // out0 = [1+3, 2+4] = [4,6];  out1 = [2−3+1, 4−4+1] = [0,1];  out2 = [1.5−1, 2−1] = [0.5,1]
        let x = Tensor(shape: [1, 2, 1, 2], values: [1, 2, 3, 4])
        let w = Tensor(shape: [3, 2, 1, 1], values: [1, 1, 2, -1, 0, 0.5])
        let b = Tensor(shape: [3], values: [0, 1, -1])
        assertExact(x.conv2d(weight: w, bias: b), [4, 6, 0, 1, 0.5, 1], shape: [1, 3, 1, 2])
        assertExact(x.conv2d(weight: w), [4, 6, -1, 0, 1.5, 2], shape: [1, 3, 1, 2])
    }

    func testConvHandComputedGroups() {
        // Depthwise (groups = 2), 1x1: channel 0 times 2, channel 1 times −1.
        let x = Tensor(shape: [1, 2, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8])
        let w = Tensor(shape: [2, 1, 1, 1], values: [2, -1])
        assertExact(x.conv2d(weight: w, groups: 2), [2, 4, 6, 8, -5, -6, -7, -8], shape: [1, 2, 2, 2])
        // Depthwise 2x2: channel 0 with ones → 1+2+3+4 = 10; channel 1 with [[1,0],[0,0]] → 5.
        let w2 = Tensor(shape: [2, 1, 2, 2], values: [1, 1, 1, 1, 1, 0, 0, 0])
        assertExact(x.conv2d(weight: w2, groups: 2), [10, 5], shape: [1, 2, 1, 1])
        // Same input, groups = 1 with a [1,2,2,2] kernel of ones mixes both: 10 + 26 = 36.
        assertExact(x.conv2d(weight: Tensor(shape: [1, 2, 2, 2], repeating: 1)), [36], shape: [1, 1, 1, 1])
    }

    struct Case {
        var n, cin, h, w, cout, kh, kw: Int
        var stride: (Int, Int) = (1, 1)
        var padding: (Int, Int) = (0, 0)
        var groups = 1
    }

    func testConvAgainstReference() {
        let cases: [Case] = [
            Case(n: 2, cin: 3, h: 7, w: 5, cout: 5, kh: 3, kw: 3, padding: (1, 1)),
            Case(n: 1, cin: 5, h: 17, w: 13, cout: 7, kh: 5, kw: 5, padding: (2, 2)),          // 5x5
            Case(n: 2, cin: 4, h: 9, w: 11, cout: 6, kh: 1, kw: 3, padding: (0, 1)),           // 1x3
            Case(n: 1, cin: 3, h: 8, w: 7, cout: 2, kh: 3, kw: 1, stride: (2, 1), padding: (1, 0)), // 3x1, stride in y only
            Case(n: 2, cin: 6, h: 9, w: 9, cout: 4, kh: 3, kw: 3, stride: (2, 2), padding: (1, 1), groups: 2),
            Case(n: 1, cin: 7, h: 5, w: 6, cout: 7, kh: 3, kw: 3, padding: (1, 1), groups: 7), // depthwise, prime C
            Case(n: 1, cin: 6, h: 10, w: 9, cout: 9, kh: 3, kw: 3, stride: (2, 2), padding: (3, 3), groups: 3),
            Case(n: 1, cin: 3, h: 4, w: 4, cout: 2, kh: 3, kw: 3, padding: (2, 2)),            // padding > k/2
            Case(n: 1, cin: 2, h: 3, w: 4, cout: 2, kh: 3, kw: 3, padding: (4, 4)),            // padding > kernel
            Case(n: 1, cin: 2, h: 1, w: 1, cout: 3, kh: 3, kw: 3, padding: (1, 1)),            // 1x1 image
            Case(n: 1, cin: 1, h: 1, w: 1, cout: 1, kh: 1, kw: 7, padding: (0, 3)),            // kernel wider than input
            Case(n: 1, cin: 1, h: 3, w: 17, cout: 2, kh: 1, kw: 3, stride: (1, 2), padding: (0, 1)), // stride in x only
            Case(n: 1, cin: 2, h: 2, w: 3, cout: 1, kh: 2, kw: 3),                              // kernel = input
            Case(n: 2, cin: 3, h: 7, w: 8, cout: 3, kh: 3, kw: 3, stride: (2, 2)),              // stride 2, no pad, even W
            Case(n: 1, cin: 2, h: 6, w: 5, cout: 4, kh: 4, kw: 2, stride: (3, 2), padding: (2, 1)),
            Case(n: 2, cin: 5, h: 6, w: 7, cout: 3, kh: 1, kw: 1),                              // 1x1 direct GEMM
            Case(n: 1, cin: 6, h: 6, w: 7, cout: 4, kh: 1, kw: 1, groups: 2),                   // 1x1 direct, groups
            Case(n: 1, cin: 3, h: 7, w: 7, cout: 4, kh: 1, kw: 1, stride: (2, 2)),              // 1x1 stride → im2col
            Case(n: 1, cin: 3, h: 5, w: 5, cout: 4, kh: 1, kw: 1, padding: (1, 1)),             // 1x1 padded → im2col
            Case(n: 1, cin: 33, h: 5, w: 4, cout: 17, kh: 3, kw: 3, padding: (1, 1)),           // K = 297
        ]
        var seed: UInt64 = 400
        for c in cases {
            for withBias in [false, true] {
                seed += 3
                let x = random([c.n, c.cin, c.h, c.w], seed: seed)
                let w = random([c.cout, c.cin / c.groups, c.kh, c.kw], seed: seed + 1)
                let b = withBias ? random([c.cout], seed: seed + 2) : nil
                let ref = refConv2d(doubles(x), xShape: x.shape, doubles(w), wShape: w.shape,
                                    bias: b.map(doubles), stride: c.stride, padding: c.padding, groups: c.groups)
                // The whole image unfolded at once, then in bands of one and of two output rows.
                let bandRow = (c.cin / c.groups) * c.kh * c.kw * ref.shape[3]
                for budget in [Tensor.im2colBudget, 1, 2 * bandRow + 1] {
                    let out = x.conv2d(weight: w, bias: b, stride: c.stride, padding: c.padding, groups: c.groups,
                                       im2colBudget: budget)
                    assertClose(out, ref.values, shape: ref.shape, "\(c) bias=\(withBias) im2col budget \(budget)")
                }
            }
        }
    }

    func testOneByOneDirectPathMatchesPaddedIm2colPath() {
        // The 1x1/stride-1/no-padding case skips im2col. With padding 1 it goes through
        // im2col; the interior of that output must equal the direct one and the border is the bias.
        let x = random([2, 5, 4, 6], seed: 77)
        let w = random([3, 5, 1, 1], seed: 78)
        let b = Tensor(shape: [3], values: [0.25, -0.5, 1])
        let direct = x.conv2d(weight: w, bias: b)
        let padded = x.conv2d(weight: w, bias: b, padding: (1, 1))
        XCTAssertEqual(padded.shape, [2, 3, 6, 8])
        let interior = padded.slice(axis: 2, start: 1, length: 4).slice(axis: 3, start: 1, length: 6)
        assertClose(interior, direct, rtol: 1e-6, atol: 1e-6)
        for n in 0..<2 {
            for c in 0..<3 {
                XCTAssertEqual(padded[n, c, 0, 0], b.data[c])
                XCTAssertEqual(padded[n, c, 5, 3], b.data[c])
                XCTAssertEqual(padded[n, c, 2, 7], b.data[c])
            }
        }
        // And a 1x1 conv is linear over channels: compare with linear on the NHWC layout.
        let nhwc = x.permuted([0, 2, 3, 1])
        let viaLinear = nhwc.linear(weight: w.reshaped([3, 5]), bias: b).permuted([0, 3, 1, 2])
        assertClose(direct, viaLinear)
    }

    func testConvOutputIsFreshAndInputsUntouched() {
        let x = random([1, 3, 5, 5], seed: 5)
        let w = random([2, 3, 3, 3], seed: 6)
        let before = x.scalars, wBefore = w.scalars
        let first = x.conv2d(weight: w, padding: (1, 1))
        let second = x.conv2d(weight: w, padding: (1, 1))
        XCTAssertEqual(x.scalars, before)
        XCTAssertEqual(w.scalars, wBefore)
        XCTAssertEqual(first.scalars, second.scalars)
    }
}
