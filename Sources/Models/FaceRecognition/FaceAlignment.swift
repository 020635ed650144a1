import Foundation
import Formats

/// insightface's face alignment (utils/face_align.py `norm_crop`): the similarity transform
/// (rotation, uniform scale, shift; Umeyama's least squares, as skimage's
/// SimilarityTransform.estimate) that takes five facial points onto the ArcFace template,
/// then a bilinear warp with a black border.
public enum FaceAlignment {
    /// `arcface_dst`: eye on the image's left, other eye, nose tip, mouth corner on the image's
    /// left, other corner, in a 112x112 crop.
    public static let arcfaceTemplate: [SIMD2<Double>] = [
        SIMD2(38.2946, 51.6963), SIMD2(73.5318, 51.5014), SIMD2(56.0252, 71.7366),
        SIMD2(41.5493, 92.3655), SIMD2(70.7299, 92.2041),
    ]

    /// The template for a `size` x `size` crop, as norm_crop scales it (112 and its multiples
    /// scale; other sizes follow insightface's 128-based rule with an 8-pixel shift).
    public static func template(size: Int) -> [SIMD2<Double>] {
        let (ratio, shift) = size % 112 == 0 ? (Double(size) / 112, 0.0) : (Double(size) / 128, 8 * Double(size) / 128)
        return arcfaceTemplate.map { SIMD2($0.x * ratio + shift, $0.y * ratio) }
    }

    /// The least-squares similarity taking `source` points onto `target` points (Umeyama 1991
    /// in two dimensions: the rotation angle and scale have a closed form; no reflection).
    public static func similarity(from source: [SIMD2<Double>], to target: [SIMD2<Double>]) -> AffineTransform2D {
        precondition(source.count == target.count && source.count >= 2, "similarity needs two or more point pairs")
        let n = Double(source.count)
        let sourceMean = source.reduce(.zero, +) / n, targetMean = target.reduce(.zero, +) / n
        var a00 = 0.0, a01 = 0.0, a10 = 0.0, a11 = 0.0, variance = 0.0
        for (s, t) in zip(source, target) {
            let p = s - sourceMean, q = t - targetMean
            a00 += q.x * p.x; a01 += q.x * p.y
            a10 += q.y * p.x; a11 += q.y * p.y
            variance += p.x * p.x + p.y * p.y
        }
        let cosine = a00 + a11, sine = a10 - a01
        let norm = (cosine * cosine + sine * sine).squareRoot()
        guard norm > 0, variance > 0 else {
            return AffineTransform2D(a: 1, b: 0, tx: targetMean.x - sourceMean.x, c: 0, d: 1, ty: targetMean.y - sourceMean.y)
        }
        let scale = norm / variance
        let c = scale * cosine / norm, s = scale * sine / norm
        return AffineTransform2D(a: c, b: -s, tx: targetMean.x - (c * sourceMean.x - s * sourceMean.y),
                                 c: s, d: c, ty: targetMean.y - (s * sourceMean.x + c * sourceMean.y))
    }

    /// The `size` x `size` aligned crop of the face whose five points (template order, source
    /// pixels) are given, and the photo -> crop transform.
    public static func align(_ image: RGBImage, points: [SIMD2<Float>], size: Int = 112) -> (image: RGBImage, transform: AffineTransform2D) {
        precondition(points.count == 5, "alignment needs five points, got \(points.count)")
        let transform = similarity(from: points.map { SIMD2(Double($0.x), Double($0.y)) }, to: template(size: size))
        let toSource = transform.inverted ?? .identity
        return (image.warped(width: size, height: size, outputToSource: toSource, border: .constant(.black)), transform)
    }

    /// Five points from BlazeFace's six keypoints, for when no face mesh is available: the eyes
    /// and the nose tip as detected; the mouth corners placed on either side of the detected
    /// mouth centre along the eye line, 0.414 of the eye distance each way (the template's
    /// mouth width is 0.828 of its eye distance).
    public static func points(from detection: FaceDetection) -> [SIMD2<Float>] {
        precondition(detection.keypoints.count >= 4, "a BlazeFace detection has eyes, nose and mouth keypoints")
        let k = detection.keypoints
        let eyeLine = k[1] - k[0]
        return [k[0], k[1], k[2], k[3] - 0.414 * eyeLine, k[3] + 0.414 * eyeLine]
    }
}
