import Foundation
import Formats

/// dlib's aligned face chip (get_face_chip_details + extract_image_chip): the similarity
/// transform that puts the 5 landmarks on dlib's mean face (padded by `padding` on every
/// side), sampled bilinearly into a `size` x `size` image.
///
/// Not done: dlib first shrinks the photo with an image pyramid when the face region is more
/// than twice the chip's size (over about 300 pixels square for 150); here it is always
/// sampled directly, so on such large faces the chip differs slightly from dlib's.
public enum DlibFaceChip {
    /// The mean 5-point face: outer and inner corner of one eye, of the other, the bottom of
    /// the nose, in the unit square.
    static let template: [SIMD2<Double>] = [
        SIMD2(0.8595674595992, 0.2134981538014), SIMD2(0.6460604764104, 0.2289674387677),
        SIMD2(0.1205750620789, 0.2137274526848), SIMD2(0.3340850613712, 0.2290642403242),
        SIMD2(0.4901123135679, 0.6277975316475),
    ]

    /// Where chip pixel (column, row) samples the image: origin + column·dx + row·dy.
    public struct Sampling: Equatable, Sendable {
        public var origin: SIMD2<Double>
        public var dx: SIMD2<Double>
        public var dy: SIMD2<Double>
    }

    public static func sampling(landmarks: [SIMD2<Int>], size: Int, padding: Double) -> Sampling {
        precondition(landmarks.count == 5, "the face chip needs the 5 landmarks of dlib's 5-point model")
        let side = Double(size)
        let from = template.map { ($0 + padding) / (2 * padding + 1) * side }
        let to = landmarks.map { SIMD2<Double>(Double($0.x), Double($0.y)) }
        let t = SimilarityTransform.fit(from: from, to: to)
        // chip_details: the angle and scale of the transform, a rectangle around the mapped
        // chip centre (dlib's rectangles span width − 1), its corners rotated back
        let angle = atan2(t.b, t.a), scale = (t.a * t.a + t.b * t.b).squareRoot()
        let centre = t.apply(SIMD2(side / 2, side / 2))
        let half = (side * scale - 1) / 2
        let cosA = cos(angle), sinA = sin(angle)
        func rotated(_ x: Double, _ y: Double) -> SIMD2<Double> {
            let d = SIMD2(x, y) - centre
            return centre + SIMD2(cosA * d.x - sinA * d.y, sinA * d.x + cosA * d.y)
        }
        let tl = rotated(centre.x - half, centre.y - half)
        let tr = rotated(centre.x + half, centre.y - half)
        let bl = rotated(centre.x - half, centre.y + half)
        return Sampling(origin: tl, dx: (tr - tl) / Double(size - 1), dy: (bl - tl) / Double(size - 1))
    }

    /// The chip: bilinear samples, black where a sample's 2x2 neighbourhood leaves the image,
    /// truncated to bytes (dlib's interpolate_bilinear into an rgb_pixel image).
    public static func extract(_ image: RGBImage, landmarks: [SIMD2<Int>], size: Int = 150, padding: Double = 0.25) -> RGBImage {
        let s = sampling(landmarks: landmarks, size: size, padding: padding)
        var out = [UInt8](repeating: 0, count: size * size * 3)
        let w = image.width, h = image.height
        for row in 0..<size {
            for column in 0..<size {
                // dlib's point_transform_affine: (m · p) + b
                let c = Double(column), r = Double(row)
                let p = SIMD2(s.dx.x * c + s.dy.x * r, s.dx.y * c + s.dy.y * r) + s.origin
                let x0 = p.x.rounded(.down), y0 = p.y.rounded(.down)
                guard x0 >= 0, y0 >= 0, x0 + 1 < Double(w), y0 + 1 < Double(h) else { continue }
                let ix = Int(x0), iy = Int(y0)
                let fx = p.x - x0, fy = p.y - y0
                for c in 0..<3 {
                    let tl = Double(image.pixels[(iy * w + ix) * 3 + c]), tr = Double(image.pixels[(iy * w + ix + 1) * 3 + c])
                    let bl = Double(image.pixels[((iy + 1) * w + ix) * 3 + c]), br = Double(image.pixels[((iy + 1) * w + ix + 1) * 3 + c])
                    let top = (1 - fx) * tl + fx * tr, bottom = (1 - fx) * bl + fx * br
                    out[(row * size + column) * 3 + c] = UInt8(max(0, min(255, (1 - fy) * top + fy * bottom)))
                }
            }
        }
        return RGBImage(width: size, height: size, pixels: out)
    }
}
