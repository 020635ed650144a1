import Formats
import TensorCore

/// The detector's view of a photo, as MediaPipe's ImageToTensorCalculator makes it with
/// keep_aspect_ratio and BORDER_ZERO: the photo centred on a black square (the odd pixel
/// of padding right/bottom), resized to the input size, bytes mapped to [-1, 1]. It also
/// maps detections back (DetectionLetterboxRemovalCalculator) to source pixels.
///
/// MediaPipe samples with OpenCV's bilinear warp, which does not antialias; we use the
/// Pillow-compatible antialiased bilinear resize, so large photos do not alias. On the
/// committed photos the boxes then differ from MediaPipe's by under 1% of the image size.
public struct DetectorLetterbox: Equatable, Sendable {
    public let sourceWidth: Int
    public let sourceHeight: Int
    /// Offset of the photo on the square canvas, and the canvas side, in source pixels.
    public let left: Int
    public let top: Int
    public let side: Int

    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "empty \(width)x\(height) image")
        sourceWidth = width
        sourceHeight = height
        side = max(width, height)
        left = (side - width) / 2
        top = (side - height) / 2
    }

    /// The `size` x `size` detector input image.
    public func inputImage(_ image: RGBImage, size: Int) -> RGBImage {
        precondition(image.width == sourceWidth && image.height == sourceHeight, "letterbox made for another image size")
        return image.paddedToSquare(fill: .black).image.resized(width: size, height: size, filter: .bilinear)
    }

    /// The [1, 3, size, size] input tensor in [-1, 1].
    public func input(_ image: RGBImage, size: Int) -> Tensor {
        inputImage(image, size: size).tensor(range: .minusOneToOne)
    }

    /// A detection relative to the square input -> source pixels.
    public func toSource(_ detection: FaceDetection) -> FaceDetection {
        let s = Float(side), dx = Float(left), dy = Float(top)
        func point(_ p: SIMD2<Float>) -> SIMD2<Float> { SIMD2(p.x * s - dx, p.y * s - dy) }
        let b = detection.box
        return FaceDetection(score: detection.score,
                             box: BoundingBox(xmin: b.xmin * s - dx, ymin: b.ymin * s - dy,
                                              xmax: b.xmax * s - dx, ymax: b.ymax * s - dy),
                             keypoints: detection.keypoints.map(point))
    }
}
