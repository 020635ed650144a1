import Formats

/// A soft foreground mask for a square face crop (1 = keep, 0 = background): the face mesh's
/// outline when the mesh is available (`outline`), else a fixed ellipse (`ellipse`).
///
/// The ellipse is not a segmenter: it assumes what `CropMode.auto` produces, the face centred and filling
/// 1/1.3 of the crop. The kept ellipse is centred, `keepWidth` x `keepHeight` of the side
/// (the face box is 0.77 of it: cheeks and chin stay, the corners and the background at the
/// sides go). Outside it the mask falls to 0 with a smoothstep over `feather` of the
/// ellipse's radius (0.15: about 7% of the side), so no hard edge reaches the encoder.
public struct ReferenceMask: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// Row-major, one value in 0...1 per pixel.
    public let values: [Float]

    public static let keepWidth: Float = 0.80
    public static let keepHeight: Float = 0.96
    public static let feather: Float = 0.15

    /// The CLIP image mean (0.4815, 0.4578, 0.4082) in bytes: background pixels normalise
    /// to ~0 in the image encoder, i.e. carry no signal.
    public static let backgroundColor = RGBColor(123, 117, 104)

    public init(width: Int, height: Int, values: [Float]) {
        precondition(values.count == width * height, "mask \(width)x\(height) needs \(width * height) values, got \(values.count)")
        self.width = width
        self.height = height
        self.values = values
    }

    /// The soft ellipse for a `width` x `height` crop.
    public static func ellipse(width: Int, height: Int) -> ReferenceMask {
        let a = keepWidth * Float(width) / 2, b = keepHeight * Float(height) / 2
        let cx = Float(width) / 2, cy = Float(height) / 2
        var values = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                // Pixel centres; r = 1 on the kept ellipse's edge.
                let dx = (Float(x) + 0.5 - cx) / a, dy = (Float(y) + 0.5 - cy) / b
                let r = (dx * dx + dy * dy).squareRoot()
                let t = min(max((r - 1) / feather, 0), 1)
                values[y * width + x] = 1 - t * t * (3 - 2 * t)
            }
        }
        return ReferenceMask(width: width, height: height, values: values)
    }

    /// The face outline (the mesh's FACEMESH_FACE_OVAL polygon, in this crop's pixel
    /// coordinates, pixel centres at +0.5): 1 inside, falling to 0 with a smoothstep over
    /// `outlineFeather` of the side outside it, so the jaw and forehead edge stay soft.
    public static func outline(_ polygon: [SIMD2<Float>], width: Int, height: Int) -> ReferenceMask {
        precondition(polygon.count >= 3, "an outline needs three or more points")
        let feather = max(outlineFeather * Float(max(width, height)), 1e-3)
        var values = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let p = SIMD2<Float>(Float(x) + 0.5, Float(y) + 0.5)
                var inside = false, nearest = Float.infinity
                var j = polygon.count - 1
                for i in 0..<polygon.count {
                    let a = polygon[i], b = polygon[j]
                    // Even-odd rule: count crossings of the ray to the right of p.
                    if (a.y > p.y) != (b.y > p.y), p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x { inside.toggle() }
                    let edge = b - a, length = (edge * edge).sum()
                    let t = length > 0 ? min(max(((p - a) * edge).sum() / length, 0), 1) : 0
                    let d = p - (a + t * edge)
                    nearest = min(nearest, (d * d).sum())
                    j = i
                }
                if inside {
                    values[y * width + x] = 1
                } else {
                    let t = min(nearest.squareRoot() / feather, 1)
                    values[y * width + x] = 1 - t * t * (3 - 2 * t)
                }
            }
        }
        return ReferenceMask(width: width, height: height, values: values)
    }

    /// The outline mask's soft edge, as a fraction of the crop's side (about the ellipse's 7%).
    public static let outlineFeather: Float = 0.06

    /// `image` blended towards `background` where the mask is below 1 (rounded to bytes).
    public func apply(to image: RGBImage, background: RGBColor = backgroundColor) -> RGBImage {
        precondition(image.width == width && image.height == height, "mask \(width)x\(height) does not fit a \(image.width)x\(image.height) image")
        let opaque = image.flattened()
        let fill = [Float(background.red), Float(background.green), Float(background.blue)]
        var pixels = opaque.pixels
        for index in 0..<(width * height) {
            let m = values[index]
            if m >= 1 { continue }
            for channel in 0..<3 {
                let mixed = Float(pixels[3 * index + channel]) * m + fill[channel] * (1 - m)
                pixels[3 * index + channel] = UInt8(min(max(mixed.rounded(), 0), 255))
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
