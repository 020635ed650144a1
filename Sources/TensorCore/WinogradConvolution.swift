import CKernels
import Dispatch

/// Stride-1 3x3 convolutions by Winograd F(4x4, 3x3): each 4x4 output tile costs 36 products per
/// channel pair instead of 144, done as 36 GEMMs over channels ([cout x cin] · [cin x tiles]).
/// Used where there are enough tiles for those GEMMs to run well; the transforms add rounding of
/// a few ulps of the layer's magnitudes, far inside every parity tolerance.
extension Tensor {
    /// Whether `conv2d` takes the Winograd path for this shape.
    static func prefersWinograd(cin: Int, cout: Int, outHeight: Int, outWidth: Int, kh: Int, kw: Int,
                                stride: (Int, Int), padding: (Int, Int), groups: Int) -> Bool {
        guard kh == 3, kw == 3, stride == (1, 1), groups == 1, padding.0 == padding.1, padding.0 <= 2 else { return false }
        // Enough tiles per image (>= 32x32 outputs) and channels for the 36 GEMMs to be GEMMs,
        // and transformed weights (36 floats per channel pair) of at most 64 MiB.
        let tiles = ((outHeight + 3) / 4) * ((outWidth + 3) / 4)
        return tiles >= 64 && cin >= 16 && cout >= 16 && 36 * cin * cout <= 16 << 20
    }

    /// The most floats of transformed input (and of products) one block of tiles may hold.
    static let winogradBlockBudget = 4 << 20

    /// `normalized`: per-(image, channel) scale and shift (N·C each, a GroupNorm's
    /// coefficients) applied to the input as it is read, then SiLU when `silu`.
    /// `upsampled`: convolve this tensor upsampled 2x by nearest neighbour, read in place.
    func winogradConv3x3(weight: Tensor, bias: Tensor?, padding: Int, blockBudget: Int = Tensor.winogradBlockBudget,
                         normalized: (scale: [Float], shift: [Float], silu: Bool)? = nil,
                         upsampled: Bool = false) -> Tensor {
        let factor = upsampled ? 2 : 1
        let n = shape[0], cin = shape[1], h = factor * shape[2], w = factor * shape[3], cout = weight.shape[0]
        let sourcePlane = shape[2] * shape[3]
        let oh = h + 2 * padding - 2, ow = w + 2 * padding - 2
        let tilesY = (oh + 3) / 4, tilesX = (ow + 3) / 4, tiles = tilesY * tilesX
        let out = Tensor(uninitializedShape: [n, cout, oh, ow])

        let pairs = cout * cin
        let transformed = TensorStorage(uninitializedCount: 36 * pairs)
        let weights = UnsafePointer(weight.data), u = transformed.pointer
        Parallel.forRanges(pairs, grain: 256) { range in
            pv_wino43_weights(weights, range.lowerBound, range.count, pairs, u)
        }

        let block = max(1, min(tiles, blockBudget / (36 * max(cin, cout))))
        let inputs = TensorStorage(uninitializedCount: 36 * cin * block)
        let products = TensorStorage(uninitializedCount: 36 * cout * block)
        let v = inputs.pointer, m = products.pointer
        let biases = bias.map { UnsafePointer($0.data) }
        for image in 0..<n {
            let source = UnsafePointer(data + image * cin * sourcePlane)
            let target = out.data + image * cout * oh * ow
            var first = 0
            while first < tiles {
                let count = min(block, tiles - first)
                Parallel.forEach(cin, costPerItem: 36 * count) { c in
                    let plane = image * cin + c
                    let norm: Int32 = normalized == nil ? 0 : (normalized!.silu ? 2 : 1)
                    pv_wino43_input(source + c * sourcePlane, h, w, padding, tilesX, first, count, v + c * count, cin * count,
                                    normalized?.scale[plane] ?? 1, normalized?.shift[plane] ?? 0,
                                    norm + (upsampled ? 4 : 0))
                }
                DispatchQueue.concurrentPerform(iterations: 36) { k in
                    BLAS.sgemm(m: cout, n: count, k: cin, a: u + k * pairs, lda: cin,
                               b: v + k * cin * count, ldb: count, c: m + k * cout * count, ldc: count, split: false)
                }
                Parallel.forEach(cout, costPerItem: 36 * count) { o in
                    pv_wino43_output(m + o * count, cout * count, first, count, tilesX,
                                     biases?[o] ?? 0, target + o * oh * ow, oh, ow)
                }
                first += count
            }
        }
        withExtendedLifetime((transformed, inputs, products)) {}
        return out
    }

    /// conv3x3(SiLU(GroupNorm(self))) with stride 1, as ResNet blocks compute it: on the Winograd
    /// path the normalisation is applied as the input is read, so the normalised tensor (268 MB
    /// at the SD VAE's 512x512 layers) never exists; elsewhere it is made and convolved. The
    /// values are the same either way (the same float operations in the same order).
    public func normSiLUConv3x3(groups: Int, normWeight: Tensor?, normBias: Tensor?, eps: Float,
                                weight: Tensor, bias: Tensor?, padding: Int) -> Tensor {
        precondition(rank == 4 && weight.rank == 4 && weight.shape[2] == 3 && weight.shape[3] == 3 && weight.shape[1] == shape[1],
                     "normSiLUConv3x3: input \(shape), weight \(weight.shape)")
        let oh = shape[2] + 2 * padding - 2, ow = shape[3] + 2 * padding - 2
        if Tensor.prefersWinograd(cin: shape[1], cout: weight.shape[0], outHeight: oh, outWidth: ow, kh: 3, kw: 3,
                                  stride: (1, 1), padding: (padding, padding), groups: 1) {
            let coefficients = groupNormCoefficients(groups: groups, weight: normWeight, bias: normBias, eps: eps)
            return winogradConv3x3(weight: weight, bias: bias, padding: padding,
                                   normalized: (coefficients.scale, coefficients.shift, true))
        }
        return groupNorm(groups: groups, weight: normWeight, bias: normBias, eps: eps, silu: true)
            .conv2d(weight: weight, bias: bias, padding: (padding, padding))
    }

    /// conv3x3(nearest-2x upsample of self), stride 1, as UNet and VAE up blocks compute it: on
    /// the Winograd path the upsampled tensor (268 MB at the SD VAE's last upsample) is read in
    /// place and never made. The same values as upsampling first.
    public func upsampleNearest2xConv3x3(weight: Tensor, bias: Tensor?, padding: Int) -> Tensor {
        precondition(rank == 4 && weight.rank == 4 && weight.shape[2] == 3 && weight.shape[3] == 3 && weight.shape[1] == shape[1],
                     "upsampleNearest2xConv3x3: input \(shape), weight \(weight.shape)")
        let oh = 2 * shape[2] + 2 * padding - 2, ow = 2 * shape[3] + 2 * padding - 2
        if Tensor.prefersWinograd(cin: shape[1], cout: weight.shape[0], outHeight: oh, outWidth: ow, kh: 3, kw: 3,
                                  stride: (1, 1), padding: (padding, padding), groups: 1) {
            return winogradConv3x3(weight: weight, bias: bias, padding: padding, upsampled: true)
        }
        return upsampleNearest2x().conv2d(weight: weight, bias: bias, padding: (padding, padding))
    }
}
