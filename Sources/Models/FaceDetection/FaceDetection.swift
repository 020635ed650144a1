/// An axis-aligned box by its corners, in whatever unit its producer says (relative 0...1
/// for raw detections, source pixels for `FaceDetector.detect`).
public struct BoundingBox: Equatable, Sendable, CustomStringConvertible {
    public var xmin: Float
    public var ymin: Float
    public var xmax: Float
    public var ymax: Float

    public init(xmin: Float, ymin: Float, xmax: Float, ymax: Float) {
        self.xmin = xmin
        self.ymin = ymin
        self.xmax = xmax
        self.ymax = ymax
    }

    public var width: Float { xmax - xmin }
    public var height: Float { ymax - ymin }
    public var area: Float { max(width, 0) * max(height, 0) }
    public var centerX: Float { (xmin + xmax) / 2 }
    public var centerY: Float { (ymin + ymax) / 2 }

    /// Intersection over union; 0 for disjoint or empty boxes.
    public func intersectionOverUnion(_ other: BoundingBox) -> Float {
        let iw = min(xmax, other.xmax) - max(xmin, other.xmin)
        let ih = min(ymax, other.ymax) - max(ymin, other.ymin)
        guard iw > 0, ih > 0 else { return 0 }
        let intersection = iw * ih
        let union = area + other.area - intersection
        return union > 0 ? intersection / union : 0
    }

    public var description: String {
        String(format: "(%.1f, %.1f)-(%.1f, %.1f)", xmin, ymin, xmax, ymax)
    }
}

/// One face found by the detector.
public struct FaceDetection: Equatable, Sendable {
    /// Confidence after the sigmoid, 0...1.
    public var score: Float
    public var box: BoundingBox
    /// In the order of `FaceDetectorConfig.keypoints`: the subject's right eye, left eye,
    /// nose tip, mouth centre, right ear tragion, left ear tragion.
    public var keypoints: [SIMD2<Float>]

    public init(score: Float, box: BoundingBox, keypoints: [SIMD2<Float>]) {
        self.score = score
        self.box = box
        self.keypoints = keypoints
    }
}
