import Foundation

/// The face mesh's answer for one face, in source pixels.
public struct FaceLandmarks: Equatable, Sendable {
    /// The 468 mesh points (x, y); MediaPipe's numbering.
    public let points: [SIMD2<Float>]
    /// Face presence after the sigmoid, 0...1.
    public let presence: Float
    /// The region the network saw.
    public let region: FaceRegion
    /// The face outline (FACEMESH_FACE_OVAL), in polygon order.
    public let faceOutline: [SIMD2<Float>]
    /// The centroids of the eye contours: the subject's right eye (image left), then left.
    public let rightEyeCenter: SIMD2<Float>
    public let leftEyeCenter: SIMD2<Float>
    public let noseTip: SIMD2<Float>
    /// The subject's right mouth corner (image left), then the left one.
    public let mouthCorners: [SIMD2<Float>]

    init(points: [SIMD2<Float>], presence: Float, region: FaceRegion, config: FaceMeshConfig) {
        func centroid(_ indices: [Int]) -> SIMD2<Float> {
            indices.reduce(SIMD2<Float>.zero) { $0 + points[$1] } / Float(indices.count)
        }
        self.points = points
        self.presence = presence
        self.region = region
        faceOutline = config.faceOval.map { points[$0] }
        rightEyeCenter = centroid(config.rightEye)
        leftEyeCenter = centroid(config.leftEye)
        noseTip = points[config.noseTip]
        mouthCorners = config.mouthCorners.map { points[$0] }
    }

    /// insightface's five alignment points, in its template's order: the eye on the image's
    /// left, the other eye, the nose tip, the mouth corner on the image's left, the other.
    public var alignmentPoints: [SIMD2<Float>] {
        [rightEyeCenter, leftEyeCenter, noseTip, mouthCorners[0], mouthCorners[1]]
    }

    /// The eye line's angle in radians, clockwise on screen (0 = level).
    public var eyeLineAngle: Float {
        let d = leftEyeCenter - rightEyeCenter
        return atan2f(d.y, d.x)
    }
}


