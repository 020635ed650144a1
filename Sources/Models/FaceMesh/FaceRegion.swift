import Foundation
import Formats

/// The rotated square MediaPipe's face-landmark graph crops around a detection
/// (DetectionsToRectsCalculator + RectTransformationCalculator), in source pixels.
public struct FaceRegion: Equatable, Sendable {
    public var centerX: Float
    public var centerY: Float
    public var side: Float
    /// Radians, clockwise on screen: rotating the photo back by it levels the eyes.
    public var rotation: Float

    public init(centerX: Float, centerY: Float, side: Float, rotation: Float) {
        self.centerX = centerX
        self.centerY = centerY
        self.side = side
        self.rotation = rotation
    }

    /// From a detection in source pixels: centred on its box, rotated so the line between the
    /// two rotation keypoints (the eyes) lies at the target angle, the box's long side x scale.
    public init(detection: FaceDetection, options: FaceMeshConfig.RegionOptions) {
        let box = detection.box
        let start = detection.keypoints[options.rotationKeypoints[0]], end = detection.keypoints[options.rotationKeypoints[1]]
        let target = options.targetAngleDegrees * .pi / 180
        rotation = FaceRegion.normalized(target - atan2(-(end.y - start.y), end.x - start.x))
        side = max(box.width, box.height) * options.scale  // square_long (the config insists)
        centerX = box.centerX
        centerY = box.centerY
    }

    /// MediaPipe's NormalizeRadians: into [-pi, pi).
    static func normalized(_ angle: Float) -> Float {
        angle - 2 * .pi * (((angle + .pi) / (2 * .pi)).rounded(.down))
    }

    /// Output pixel (x, y) of a `size` x `size` crop -> source pixels, as MediaPipe's OpenCV
    /// converter maps the region's corners onto the output's corners (pixel x at x/size of
    /// the edge).
    public func cropToSource(size: Int) -> AffineTransform2D {
        let c = Double(cos(rotation)), s = Double(sin(rotation)), side = Double(self.side), n = Double(size)
        return AffineTransform2D(a: side * c / n, b: -side * s / n, tx: Double(centerX) - side / 2 * c + side / 2 * s,
                                 c: side * s / n, d: side * c / n, ty: Double(centerY) - side / 2 * s - side / 2 * c)
    }

    /// A point relative to the crop (0...1 on each axis) -> source pixels
    /// (LandmarkProjectionCalculator).
    public func project(_ x: Float, _ y: Float) -> SIMD2<Float> {
        let u = x - 0.5, v = y - 0.5, c = cos(rotation), s = sin(rotation)
        return SIMD2((c * u - s * v) * side + centerX, (s * u + c * v) * side + centerY)
    }
}
