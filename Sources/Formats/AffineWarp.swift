import Foundation

/// A 2-D affine map `(x, y) -> (a·x + b·y + tx, c·x + d·y + ty)`, in Double so that composing
/// and inverting similarity transforms keeps sub-pixel precision.
public struct AffineTransform2D: Equatable, Sendable, CustomStringConvertible {
    public var a: Double, b: Double, tx: Double
    public var c: Double, d: Double, ty: Double

    public init(a: Double, b: Double, tx: Double, c: Double, d: Double, ty: Double) {
        self.a = a; self.b = b; self.tx = tx
        self.c = c; self.d = d; self.ty = ty
    }

    public static let identity = AffineTransform2D(a: 1, b: 0, tx: 0, c: 0, d: 1, ty: 0)

    public func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        (a * x + b * y + tx, c * x + d * y + ty)
    }

    public func apply(_ point: SIMD2<Float>) -> SIMD2<Float> {
        let (x, y) = apply(Double(point.x), Double(point.y))
        return SIMD2(Float(x), Float(y))
    }

    /// The inverse map, or nil when the map is singular.
    public var inverted: AffineTransform2D? {
        let det = a * d - b * c
        guard det != 0, det.isFinite else { return nil }
        let ia = d / det, ib = -b / det, ic = -c / det, id = a / det
        return AffineTransform2D(a: ia, b: ib, tx: -(ia * tx + ib * ty), c: ic, d: id, ty: -(ic * tx + id * ty))
    }

    public var description: String {
        String(format: "[[%.6g, %.6g, %.6g], [%.6g, %.6g, %.6g]]", a, b, tx, c, d, ty)
    }
}

/// What a warp samples outside the source image.
public enum WarpBorder: Equatable, Sendable {
    /// The nearest edge pixel (OpenCV BORDER_REPLICATE; MediaPipe's ImageToTensorCalculator).
    case replicate
    /// A fixed colour (OpenCV BORDER_CONSTANT; insightface's norm_crop uses black).
    case constant(RGBColor)
}

extension RGBImage {
    /// A `width` x `height` image whose pixel (x, y) is this image bilinearly sampled at
    /// `outputToSource(x, y)`, pixel centres at whole coordinates (OpenCV's warpAffine
    /// convention), rounded to bytes. No antialiasing: for a strong downscale, warp at about
    /// the source's scale and resize afterwards. Alpha is composited on white first.
    public func warped(width: Int, height: Int, outputToSource map: AffineTransform2D,
                       border: WarpBorder = .replicate) -> RGBImage {
        precondition(width > 0 && height > 0, "warp to an empty \(width)x\(height) image")
        let source = flattened()
        let w = source.width, h = source.height
        var out = [UInt8](repeating: 0, count: width * height * 3)
        let fill: [Float]
        switch border {
        case .replicate: fill = []
        case let .constant(color): fill = [Float(color.red), Float(color.green), Float(color.blue)]
        }
        source.pixels.withUnsafeBufferPointer { src in
            for y in 0..<height {
                for x in 0..<width {
                    let (sx, sy) = map.apply(Double(x), Double(y))
                    guard sx.isFinite, sy.isFinite, abs(sx) < 1e9, abs(sy) < 1e9 else { continue }
                    let fx0 = sx.rounded(.down), fy0 = sy.rounded(.down)
                    let fx = Float(sx - fx0), fy = Float(sy - fy0)
                    let x0 = Int(fx0), y0 = Int(fy0)
                    let w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy
                    for channel in 0..<3 {
                        @inline(__always) func tap(_ tx: Int, _ ty: Int) -> Float {
                            if tx >= 0 && tx < w && ty >= 0 && ty < h { return Float(src[(ty * w + tx) * 3 + channel]) }
                            if fill.isEmpty { return Float(src[(min(max(ty, 0), h - 1) * w + min(max(tx, 0), w - 1)) * 3 + channel]) }
                            return fill[channel]
                        }
                        let value = tap(x0, y0) * w00 + tap(x0 + 1, y0) * w10 + tap(x0, y0 + 1) * w01 + tap(x0 + 1, y0 + 1) * w11
                        out[(y * width + x) * 3 + channel] = UInt8(min(max((value + 0.5).rounded(.down), 0), 255))
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}
