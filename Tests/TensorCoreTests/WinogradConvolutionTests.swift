@testable import TensorCore
import XCTest

/// Winograd F(4x4, 3x3) against the float64 reference convolution: odd sizes (partial tiles at
/// the bottom and right), paddings 0-2, biases, several images, and blocks of tiles that split
/// an image (a tiny block budget), and the choice of path that conv2d makes.
final class WinogradConvolutionTests: XCTestCase {
    func testMatchesTheReferenceConvolution() {
        let cases: [(n: Int, cin: Int, h: Int, w: Int, cout: Int, padding: Int)] = [
            (2, 16, 32, 36, 20, 1), (1, 17, 33, 37, 16, 1), (1, 16, 34, 31, 18, 0), (1, 16, 30, 30, 16, 2),
            (1, 3, 9, 10, 2, 1), (1, 1, 4, 4, 1, 1),
            (1, 16, 9, 300, 16, 1),  // rows of 75 tiles: more than one pass of the row kernels
        ]
        var seed: UInt64 = 900
        for c in cases {
            for withBias in [false, true] {
                seed += 3
                let x = random([c.n, c.cin, c.h, c.w], seed: seed)
                let w = random([c.cout, c.cin, 3, 3], seed: seed + 1, scale: 0.3)
                let b = withBias ? random([c.cout], seed: seed + 2) : nil
                let ref = refConv2d(doubles(x), xShape: x.shape, doubles(w), wShape: w.shape, bias: b.map(doubles),
                                    stride: (1, 1), padding: (c.padding, c.padding), groups: 1)
                // Winograd's rounding scales with the tile's magnitudes, not with each result:
                // bound it by the layer's largest Σ|w·x| (F(4x4, 3x3) loses ~100 ulps of it).
                let magnitude = refConv2d(doubles(x).map(abs), xShape: x.shape, doubles(w).map(abs), wShape: w.shape,
                                          bias: nil, stride: (1, 1), padding: (c.padding, c.padding), groups: 1)
                // Whole; blocks of 5 tiles (runs that cross from one image into the next); output
                // channels 16 at a time (weights transformed per block of tiles and channels).
                let budgets = [(Tensor.winogradBlockBudget, Tensor.winogradWeightBudget),
                               (36 * max(c.cin, c.cout) * 5, Tensor.winogradWeightBudget),
                               (36 * max(c.cin, 16) * 7, 36 * c.cin * 16)]
                for (budget, weightBudget) in budgets {
                    let out = x.winogradConv3x3(weight: w, bias: b, padding: c.padding, blockBudget: budget,
                                                weightBudget: weightBudget)
                    XCTAssertEqual(out.shape, ref.shape)
                    let scale = magnitude.values.max() ?? 1
                    var worst = 0.0
                    for i in 0..<ref.values.count { worst = max(worst, abs(Double(out.data[i]) - ref.values[i])) }
                    XCTAssertLessThan(worst / scale, 1e-5, "\(c) bias=\(withBias) budgets \(budget), \(weightBudget): error / max Σ|w·x|")
                }
            }
        }
    }

    /// Large stride-1 3x3 layers take Winograd, the rest im2col; both agree on a layer of the
    /// SD UNet's first block at 32x32 to float rounding.
    func testPathChoiceAndAgreementWithIm2col() {
        XCTAssertTrue(Tensor.prefersWinograd(images: 1, cin: 320, cout: 320, outHeight: 64, outWidth: 64, kh: 3, kw: 3,
                                             stride: (1, 1), padding: (1, 1), groups: 1))
        XCTAssertFalse(Tensor.prefersWinograd(images: 2, cin: 1280, cout: 1280, outHeight: 8, outWidth: 8, kh: 3, kw: 3,
                                              stride: (1, 1), padding: (1, 1), groups: 1), "too few tiles")
        XCTAssertTrue(Tensor.prefersWinograd(images: 2, cin: 2560, cout: 1280, outHeight: 16, outWidth: 16, kh: 3, kw: 3,
                                             stride: (1, 1), padding: (1, 1), groups: 1), "a guided step's 16x16 layers")
        XCTAssertFalse(Tensor.prefersWinograd(images: 1, cin: 1280, cout: 1280, outHeight: 16, outWidth: 16, kh: 3, kw: 3,
                                              stride: (1, 1), padding: (1, 1), groups: 1), "one image's 16 tiles")
        XCTAssertFalse(Tensor.prefersWinograd(images: 1, cin: 320, cout: 320, outHeight: 32, outWidth: 32, kh: 3, kw: 3,
                                              stride: (2, 2), padding: (1, 1), groups: 1), "strided")
        XCTAssertFalse(Tensor.prefersWinograd(images: 1, cin: 320, cout: 320, outHeight: 64, outWidth: 64, kh: 1, kw: 1,
                                              stride: (1, 1), padding: (0, 0), groups: 1), "1x1")
        let x = random([1, 64, 32, 32], seed: 11)
        let w = random([64, 64, 3, 3], seed: 12, scale: 0.05)
        let b = random([64], seed: 13)
        let viaWinograd = x.conv2d(weight: w, bias: b, padding: (1, 1))
        let viaIm2col = x.conv2d(weight: w, bias: b, padding: (1, 1), winograd: false)
        XCTAssertLessThan(viaWinograd.maxAbsDifference(viaIm2col), 2e-5)
        XCTAssertGreaterThan(viaWinograd.maxAbsDifference(viaIm2col), 0, "the two paths really differ in rounding")
    }
}

/// The ResNet pattern conv(SiLU(GroupNorm(x))) folded into the Winograd input transform gives
/// bit-identical results to normalising first, and the unfused path is used for small layers.
final class NormSiLUConvolutionTests: XCTestCase {
    func testFusedNormalisationIsBitIdentical() {
        for (n, c, side, cout, padding) in [(2, 32, 32, 16, 1), (1, 16, 35, 24, 1), (1, 16, 6, 16, 1)] {
            let x = random([n, c, side, side], seed: UInt64(side), scale: 3)
            let gamma = random([c], seed: 5), beta = random([c], seed: 6)
            let w = random([cout, c, 3, 3], seed: 7, scale: 0.1), b = random([cout], seed: 8)
            let fused = x.normSiLUConv3x3(groups: 8, normWeight: gamma, normBias: beta, eps: 1e-6,
                                          weight: w, bias: b, padding: padding)
            let separate = x.groupNorm(groups: 8, weight: gamma, bias: beta, eps: 1e-6).silu()
                .conv2d(weight: w, bias: b, padding: (padding, padding))
            XCTAssertEqual(fused.shape, separate.shape)
            XCTAssertEqual(fused.scalars, separate.scalars, "n \(n) c \(c) side \(side)")
        }
    }

    func testCoefficientsAreWhatGroupNormApplies() {
        let x = random([2, 8, 5, 7], seed: 21, scale: 2)
        let gamma = random([8], seed: 22), beta = random([8], seed: 23)
        let (scale, shift) = x.groupNormCoefficients(groups: 4, weight: gamma, bias: beta, eps: 1e-5)
        let normed = x.groupNorm(groups: 4, weight: gamma, bias: beta, eps: 1e-5)
        for plane in 0..<16 {
            for i in 0..<35 {
                XCTAssertEqual(normed.data[plane * 35 + i], x.data[plane * 35 + i] * scale[plane] + shift[plane])
            }
        }
    }
}

/// Up blocks' conv3x3(upsample2x(x)) reading the low-resolution input in place gives the same
/// values as upsampling first, on both paths.
final class UpsampleConvolutionTests: XCTestCase {
    func testFusedUpsampleIsBitIdentical() {
        for (n, c, h, w, cout) in [(2, 16, 16, 17, 16), (1, 24, 19, 16, 20), (1, 16, 3, 3, 16)] {
            let x = random([n, c, h, w], seed: UInt64(h * w))
            let weight = random([cout, c, 3, 3], seed: 31, scale: 0.1), bias = random([cout], seed: 32)
            let fused = x.upsampleNearest2xConv3x3(weight: weight, bias: bias, padding: 1)
            let separate = x.upsampleNearest2x().conv2d(weight: weight, bias: bias, padding: (1, 1))
            XCTAssertEqual(fused.shape, [n, cout, 2 * h, 2 * w])
            XCTAssertEqual(fused.scalars, separate.scalars, "\(n)x\(c)x\(h)x\(w)")
        }
    }
}
