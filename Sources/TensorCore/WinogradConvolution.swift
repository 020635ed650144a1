import CKernels
import Dispatch

/// Stride-1 3x3 convolutions by Winograd F(4x4, 3x3): each 4x4 output tile costs 36 products per
/// channel pair instead of 144, done as 36 GEMMs over channels ([cout x cin] · [cin x tiles]).
/// Used where there are enough tiles for those GEMMs to run well; the transforms add rounding of
/// a few ulps of the layer's magnitudes, far inside every parity tolerance.
extension Tensor {
    /// Whether `conv2d` takes the Winograd path for this shape (`images`: the batch).
    static func prefersWinograd(images: Int, cin: Int, cout: Int, outHeight: Int, outWidth: Int, kh: Int, kw: Int,
                                stride: (Int, Int), padding: (Int, Int), groups: Int) -> Bool {
        guard kh == 3, kw == 3, stride == (1, 1), groups == 1, padding.0 == padding.1, padding.0 <= 2 else { return false }
        // Enough tiles (the batch's together: SD's 16x16 layers have 16 an image) and channels
        // for the 36 GEMMs to be GEMMs; below that the transforms cost more than they save.
        let tiles = ((outHeight + 3) / 4) * ((outWidth + 3) / 4)
        return tiles >= 16 && images * tiles >= 32 && cin >= 16 && cout >= 16
    }

    /// The most floats of transformed input (and of products) one block of tiles may hold.
    static let winogradBlockBudget = 4 << 20

    /// The most floats of transformed weights held at once: larger layers (SD's 1280- and
    /// 1920-channel ones) transform theirs a block of output channels at a time.
    static let winogradWeightBudget = 16 << 20

    /// `normalized`: per-(image, channel) scale and shift (N·C each, a GroupNorm's
    /// coefficients) applied to the input as it is read, then SiLU when `silu`.
    /// `upsampled`: convolve this tensor upsampled 2x by nearest neighbour, read in place.
    /// Tiles are numbered across the batch, so the images of a guided step share their GEMMs.
    func winogradConv3x3(weight: Tensor, bias: Tensor?, padding: Int, blockBudget: Int = Tensor.winogradBlockBudget,
                         weightBudget: Int = Tensor.winogradWeightBudget,
                         normalized: (scale: [Float], shift: [Float], silu: Bool)? = nil,
                         upsampled: Bool = false) -> Tensor {
        let factor = upsampled ? 2 : 1
        let n = shape[0], cin = shape[1], h = factor * shape[2], w = factor * shape[3], cout = weight.shape[0]
        let sourcePlane = shape[2] * shape[3]
        let oh = h + 2 * padding - 2, ow = w + 2 * padding - 2
        let tilesY = (oh + 3) / 4, tilesX = (ow + 3) / 4, tiles = tilesY * tilesX, allTiles = n * tiles
        let out = Tensor(uninitializedShape: [n, cout, oh, ow])

        // Output channels per weight block (a multiple of 16 where it splits): all of them when
        // the transformed weights fit, and then they are transformed once for every tile block.
        let fitting = max(1, weightBudget / (36 * cin))
        let coutBlock = fitting >= cout ? cout : max(16, fitting / 16 * 16)
        let weightsOnce = coutBlock >= cout
        var block = max(1, min(allTiles, blockBudget / (36 * max(cin, min(cout, coutBlock)))))
        // Weights transformed a block at a time are transformed again for every block of tiles:
        // take all the tiles at once where their transform fits the weights' budget (SD's 32x32
        // layers with 1920 input channels: 1.3x faster than two blocks).
        if !weightsOnce && 36 * cin * allTiles <= weightBudget { block = allTiles }

        // Pooled: these are tens of MB and fresh ones fault every page on every call.
        let pool = ScratchPool.shared
        let transformed = pool.take(36 * min(cout, coutBlock) * cin)
        let inputs = pool.take(36 * cin * block), products = pool.take(36 * min(cout, coutBlock) * block)
        defer { pool.give(transformed); pool.give(inputs); pool.give(products) }
        let u = transformed.pointer, v = inputs.pointer, m = products.pointer
        let weights = UnsafePointer(weight.data)
        let biases = bias.map { UnsafePointer($0.data) }
        let norm: Int32 = normalized == nil ? 0 : (normalized!.silu ? 2 : 1)

        /// U[k·(outputs·cin) + oi] for output channels [firstOut, firstOut + outputs).
        func transformWeights(firstOut: Int, outputs: Int) {
            let pairs = outputs * cin
            Parallel.forRanges(pairs, grain: 256) { range in
                pv_wino43_weights(weights + firstOut * cin * 9, range.lowerBound, range.count, pairs, u)
            }
        }
        if weightsOnce { transformWeights(firstOut: 0, outputs: cout) }

        var first = 0
        while first < allTiles {
            let count = min(block, allTiles - first)
            // The block's tiles, an image's run at a time: (image, first tile, tiles, offset in block).
            var runs: [(image: Int, tile: Int, count: Int, offset: Int)] = []
            var next = first
            while next < first + count {
                let image = next / tiles, tile = next % tiles
                let length = min(tiles - tile, first + count - next)
                runs.append((image, tile, length, next - first))
                next += length
            }
            let blockRuns = runs
            Parallel.forEach(cin, costPerItem: 36 * count) { c in
                for run in blockRuns {
                    let plane = run.image * cin + c
                    pv_wino43_input(UnsafePointer(data + plane * sourcePlane), h, w, padding, tilesX, run.tile, run.count,
                                    v + c * count + run.offset, cin * count,
                                    normalized?.scale[plane] ?? 1, normalized?.shift[plane] ?? 0,
                                    norm + (upsampled ? 4 : 0))
                }
            }
            var firstOut = 0
            while firstOut < cout {
                let outputs = min(coutBlock, cout - firstOut)
                if !weightsOnce { transformWeights(firstOut: firstOut, outputs: outputs) }
                // With the weights transformed once, this block's rows of U start at firstOut (0).
                let stride = weightsOnce ? cout * cin : outputs * cin
                DispatchQueue.concurrentPerform(iterations: 36) { k in
                    BLAS.sgemm(m: outputs, n: count, k: cin, a: u + k * stride, lda: cin,
                               b: v + k * cin * count, ldb: count, c: m + k * outputs * count, ldc: count, split: false)
                }
                Parallel.forEach(outputs, costPerItem: 36 * count) { o in
                    let channel = firstOut + o
                    for run in blockRuns {
                        pv_wino43_output(m + o * count + run.offset, outputs * count, run.tile, run.count, tilesX,
                                         biases?[channel] ?? 0, out.data + (run.image * cout + channel) * oh * ow, oh, ow)
                    }
                }
                firstOut += outputs
            }
            first += count
        }
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
        if Tensor.prefersWinograd(images: shape[0], cin: shape[1], cout: weight.shape[0], outHeight: oh, outWidth: ow, kh: 3, kw: 3,
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
        if Tensor.prefersWinograd(images: shape[0], cin: shape[1], cout: weight.shape[0], outHeight: oh, outWidth: ow, kh: 3, kw: 3,
                                  stride: (1, 1), padding: (padding, padding), groups: 1) {
            return winogradConv3x3(weight: weight, bias: bias, padding: padding, upsampled: true)
        }
        return upsampleNearest2x().conv2d(weight: weight, bias: bias, padding: (padding, padding))
    }
}
