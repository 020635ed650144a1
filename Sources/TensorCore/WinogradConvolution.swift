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

    func winogradConv3x3(weight: Tensor, bias: Tensor?, padding: Int, blockBudget: Int = Tensor.winogradBlockBudget) -> Tensor {
        let n = shape[0], cin = shape[1], h = shape[2], w = shape[3], cout = weight.shape[0]
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
            let source = UnsafePointer(data + image * cin * h * w)
            let target = out.data + image * cout * oh * ow
            var first = 0
            while first < tiles {
                let count = min(block, tiles - first)
                Parallel.forEach(cin, costPerItem: 36 * count) { c in
                    pv_wino43_input(source + c * h * w, h, w, padding, tilesX, first, count, v + c * count, cin * count)
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
}
