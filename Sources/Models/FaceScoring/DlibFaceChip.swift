import Foundation
import Formats

/// dlib's aligned face chip (get_face_chip_details + extract_image_chips): the similarity
/// transform that puts the 5 landmarks on dlib's mean face (padded by `padding` on every
/// side), sampled bilinearly into a `size` x `size` image. When the face region is more than
/// about twice the chip, dlib first cuts the photo to the region (plus a margin) and shrinks it
/// with its image pyramid (pyramid_down<2>), then samples the level just large enough: done
/// here the same way, so large photos give dlib's chip too.
public enum DlibFaceChip {
    /// The mean 5-point face: outer and inner corner of one eye, of the other, the bottom of
    /// the nose, in the unit square.
    static let template: [SIMD2<Double>] = [
        SIMD2(0.8595674595992, 0.2134981538014), SIMD2(0.6460604764104, 0.2289674387677),
        SIMD2(0.1205750620789, 0.2137274526848), SIMD2(0.3340850613712, 0.2290642403242),
        SIMD2(0.4901123135679, 0.6277975316475),
    ]

    /// A dlib `drectangle` (its width is right − left + 1, as for integer rectangles).
    struct Rect {
        var left, top, right, bottom: Double
        var area: Double { max(0, right - left + 1) * max(0, bottom - top + 1) }
        var centre: SIMD2<Double> { SIMD2((left + right) / 2, (top + bottom) / 2) }
        /// pyramid_down<2>'s rect_down: p / 2 − (1.25, 0.75) on both corners.
        var down: Rect { Rect(left: left / 2 - 1.25, top: top / 2 - 0.75, right: right / 2 - 1.25, bottom: bottom / 2 - 0.75) }
    }

    /// The chip's rectangle and rotation in the photo (dlib's chip_details).
    static func details(landmarks: [SIMD2<Int>], size: Int, padding: Double) -> (rect: Rect, angle: Double) {
        precondition(landmarks.count == 5, "the face chip needs the 5 landmarks of dlib's 5-point model")
        let side = Double(size)
        let from = template.map { ($0 + padding) / (2 * padding + 1) * side }
        let to = landmarks.map { SIMD2<Double>(Double($0.x), Double($0.y)) }
        let t = SimilarityTransform.fit(from: from, to: to)
        let scale = (t.a * t.a + t.b * t.b).squareRoot()
        let centre = t.apply(SIMD2(side / 2, side / 2))
        let half = (side * scale - 1) / 2
        return (Rect(left: centre.x - half, top: centre.y - half, right: centre.x + half, bottom: centre.y + half), atan2(t.b, t.a))
    }

    public static func extract(_ image: RGBImage, landmarks: [SIMD2<Int>], size: Int = 150, padding: Double = 0.25) -> RGBImage {
        let (rect, angle) = details(landmarks: landmarks, size: size, padding: padding)
        let chipArea = Double(size * size)
        let cosA = cos(angle), sinA = sin(angle)
        func rotated(_ p: SIMD2<Double>, around c: SIMD2<Double>) -> SIMD2<Double> {
            let d = p - c
            return c + SIMD2(cosA * d.x - sinA * d.y, sinA * d.x + cosA * d.y)
        }
        // how deep the pyramid goes, and the margin (2 px per level, doubled) around the region
        var depth = 0, grow = 2.0, probe = rect.down
        while probe.area > chipArea {
            probe = probe.down
            depth += 1
            grow = grow * 2 + 2
        }
        let corners = [SIMD2(rect.left, rect.top), SIMD2(rect.right, rect.top), SIMD2(rect.left, rect.bottom), SIMD2(rect.right, rect.bottom)]
            .map { rotated($0, around: rect.centre) }
        func round(_ v: Double) -> Int { Int((v + 0.5).rounded(.down)) }
        let left = round(max(corners.map(\.x).min()! - grow, 0)), top = round(max(corners.map(\.y).min()! - grow, 0))
        let right = round(min(corners.map(\.x).max()! + grow, Double(image.width - 1)))
        let bottom = round(min(corners.map(\.y).max()! + grow, Double(image.height - 1)))
        guard right >= left, bottom >= top else { return RGBImage(width: size, height: size, color: .black) }
        var source = crop(image, left: left, top: top, width: right - left + 1, height: bottom - top + 1)
        // the level whose region is just above the chip's size
        var region = Rect(left: rect.left - Double(left), top: rect.top - Double(top),
                          right: rect.right - Double(left), bottom: rect.bottom - Double(top))
        while region.down.area > chipArea, let smaller = pyramidDown(source) {
            source = smaller
            region = region.down
        }
        let c = region.centre
        let tl = rotated(SIMD2(region.left, region.top), around: c)
        let tr = rotated(SIMD2(region.right, region.top), around: c)
        let bl = rotated(SIMD2(region.left, region.bottom), around: c)
        return sample(source, origin: tl, dx: (tr - tl) / Double(size - 1), dy: (bl - tl) / Double(size - 1), size: size)
    }

    static func crop(_ image: RGBImage, left: Int, top: Int, width: Int, height: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let from = ((top + y) * image.width + left) * 3
            pixels.replaceSubrange((y * width * 3)..<((y + 1) * width * 3), with: image.pixels[from..<(from + width * 3)])
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// dlib's pyramid_down<2> for RGB: [1 4 6 4 1] along rows, then along every other row, in
    /// integers, / 256 truncated; (W − 3) / 2 x (H − 3) / 2 out. Nil when the image is 8 or smaller.
    static func pyramidDown(_ image: RGBImage) -> RGBImage? {
        let w = image.width, h = image.height
        guard w > 8, h > 8 else { return nil }
        let tw = (w - 3) / 2, oh = (h - 3) / 2
        var temp = [Int](repeating: 0, count: h * tw * 3)
        image.pixels.withUnsafeBufferPointer { p in
            for r in 0..<h {
                for c in 0..<tw {
                    for k in 0..<3 {
                        let i = (r * w + 2 * c) * 3 + k
                        temp[(r * tw + c) * 3 + k] = Int(p[i]) + 4 * Int(p[i + 3]) + 6 * Int(p[i + 6]) + 4 * Int(p[i + 9]) + Int(p[i + 12])
                    }
                }
            }
        }
        var out = [UInt8](repeating: 0, count: oh * tw * 3)
        var row = 0, r = 2
        while r < h - 2, row < oh {
            for i in 0..<(tw * 3) {
                let sum = temp[(r - 2) * tw * 3 + i] + 4 * temp[(r - 1) * tw * 3 + i] + 6 * temp[r * tw * 3 + i]
                    + 4 * temp[(r + 1) * tw * 3 + i] + temp[(r + 2) * tw * 3 + i]
                out[row * tw * 3 + i] = UInt8(sum / 256)
            }
            row += 1
            r += 2
        }
        return RGBImage(width: tw, height: oh, pixels: out)
    }

    /// Bilinear samples at origin + column·dx + row·dy (dlib's point_transform_affine, m · p + b),
    /// black where a sample's 2x2 neighbourhood leaves the image, truncated to bytes (dlib's
    /// interpolate_bilinear into an rgb_pixel image).
    static func sample(_ image: RGBImage, origin: SIMD2<Double>, dx: SIMD2<Double>, dy: SIMD2<Double>, size: Int) -> RGBImage {
        var out = [UInt8](repeating: 0, count: size * size * 3)
        let w = image.width, h = image.height
        for row in 0..<size {
            for column in 0..<size {
                let c = Double(column), r = Double(row)
                let p = SIMD2(dx.x * c + dy.x * r, dx.y * c + dy.y * r) + origin
                let x0 = p.x.rounded(.down), y0 = p.y.rounded(.down)
                guard x0 >= 0, y0 >= 0, x0 + 1 < Double(w), y0 + 1 < Double(h) else { continue }
                let ix = Int(x0), iy = Int(y0)
                let fx = p.x - x0, fy = p.y - y0
                for k in 0..<3 {
                    let tl = Double(image.pixels[(iy * w + ix) * 3 + k]), tr = Double(image.pixels[(iy * w + ix + 1) * 3 + k])
                    let bl = Double(image.pixels[((iy + 1) * w + ix) * 3 + k]), br = Double(image.pixels[((iy + 1) * w + ix + 1) * 3 + k])
                    let top = (1 - fx) * tl + fx * tr, bottom = (1 - fx) * bl + fx * br
                    out[(row * size + column) * 3 + k] = UInt8(max(0, min(255, (1 - fy) * top + fy * bottom)))
                }
            }
        }
        return RGBImage(width: size, height: size, pixels: out)
    }
}
