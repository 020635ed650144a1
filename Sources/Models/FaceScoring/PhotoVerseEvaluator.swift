import Formats
import TensorCore

/// PhotoVerse-mini's evaluator network (training/photoverse_train/identity/nets.py
/// EvaluatorNet, FORMAT.md section 12): a face crop, 2x2 average pool, per width conv 3x3 ->
/// GroupNorm -> ReLU -> 2x2 max pool, a last conv block, flatten, linear, L2 normalisation.
public struct PhotoVerseEvaluator {
    public let config: PhotoVerseEvaluatorConfig
    let convs: [Conv2d]
    let norms: [GroupNorm]
    let fc: Linear

    public init(_ root: WeightPath, config: PhotoVerseEvaluatorConfig) throws {
        self.config = config
        let widths = config.kwargs.widths
        var convs: [Conv2d] = [], norms: [GroupNorm] = [], channels = 3
        for (i, width) in (widths + [widths.last!]).enumerated() {
            convs.append(try Conv2d(root("features")(1 + 4 * i), in: channels, out: width, kernel: 3, padding: 1))
            norms.append(try GroupNorm(root("features")(2 + 4 * i), groups: min(8, width / 4), channels: width, eps: 1e-5))
            channels = width
        }
        let side = config.crop.size >> (widths.count + 1)
        fc = try Linear(root("fc")(2), in: channels * side * side, out: config.kwargs.dim)
        self.convs = convs
        self.norms = norms
    }

    /// Crops [N, 3, S, S] in [-1, 1] -> unit embeddings [N, dim].
    public func callAsFunction(_ crops: Tensor) -> Tensor {
        var x = crops.avgPool2x2()
        for i in convs.indices {
            x = norms[i](convs[i](x)).relu()
            if i < convs.count - 1 { x = x.maxPool2d(kernel: (2, 2)) }
        }
        let y = fc(x.reshaped([x.shape[0], x.count / x.shape[0]]))
        let out = Tensor(uninitializedShape: y.shape)
        let d = y.shape[1]
        for n in 0..<y.shape[0] {
            var norm: Float = 0
            for k in 0..<d { norm += y.data[n * d + k] * y.data[n * d + k] }
            let scale = 1 / max(norm.squareRoot(), 1e-12)  // torch F.normalize's eps
            for k in 0..<d { out.data[n * d + k] = y.data[n * d + k] * scale }
        }
        return out
    }

    /// The face crop of FORMAT.md section 12: the square of side enlarge · max(w, h) around the
    /// box centre, resampled bilinearly to S x S (grid_sample, align_corners false, border
    /// padding), RGB in [-1, 1], [1, 3, S, S].
    public func crop(_ image: RGBImage, box: [Double]) -> Tensor {
        let size = config.crop.size
        let out = Tensor(uninitializedShape: [1, 3, size, size])
        let cx = box[0] + box[2] / 2, cy = box[1] + box[3] / 2
        let side = config.crop.enlarge * max(box[2], box[3])
        let w = image.width, h = image.height
        for i in 0..<size {
            for j in 0..<size {
                // edge coordinates -> pixel centres, clamped (border padding)
                let u = min(max(cx + side * ((Double(j) + 0.5) / Double(size) - 0.5) - 0.5, 0), Double(w - 1))
                let v = min(max(cy + side * ((Double(i) + 0.5) / Double(size) - 0.5) - 0.5, 0), Double(h - 1))
                let x0 = Int(u.rounded(.down)), y0 = Int(v.rounded(.down))
                let x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1)
                let fx = Float(u - Double(x0)), fy = Float(v - Double(y0))
                for c in 0..<3 {
                    func at(_ x: Int, _ y: Int) -> Float { Float(image.pixels[(y * w + x) * 3 + c]) / 127.5 - 1 }
                    let top = at(x0, y0) * (1 - fx) + at(x1, y0) * fx
                    let bottom = at(x0, y1) * (1 - fx) + at(x1, y1) * fx
                    out.data[(c * size + i) * size + j] = top * (1 - fy) + bottom * fy
                }
            }
        }
        return out
    }
}

extension Tensor {
    /// 2x2 average pooling, stride 2 (odd edges dropped, as torch's AvgPool2d(2)).
    func avgPool2x2() -> Tensor {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let oh = h / 2, ow = w / 2
        let out = Tensor(uninitializedShape: [n, c, oh, ow])
        for p in 0..<(n * c) {
            let src = data + p * h * w, dst = out.data + p * oh * ow
            for y in 0..<oh {
                for x in 0..<ow {
                    dst[y * ow + x] = (src[2 * y * w + 2 * x] + src[2 * y * w + 2 * x + 1]
                                       + src[(2 * y + 1) * w + 2 * x] + src[(2 * y + 1) * w + 2 * x + 1]) / 4
                }
            }
        }
        return out
    }
}
