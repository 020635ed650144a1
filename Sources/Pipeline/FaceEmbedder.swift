import Foundation
import Formats
import Models

/// One face's ArcFace identity embedding and how it was found.
public struct FaceEmbedding: Sendable {
    /// The embedding scaled to unit length (insightface's `normed_embedding`, what the
    /// IP-Adapter FaceID variants take), `embeddingSize` values (512 for insightface's packs).
    public let values: [Float]
    /// The length of the raw embedding before scaling (insightface's `embedding_norm`).
    public let norm: Float
    /// The five alignment points in source pixels, in the template's order.
    public let points: [SIMD2<Float>]
    /// "face mesh" or "detector keypoints": where the points came from.
    public let pointsSource: String
    /// The aligned crop ArcFace saw.
    public let aligned: RGBImage
    /// The face used (the largest) and how many the detector found.
    public let face: FaceDetection
    public let faceCount: Int
}

/// ArcFace embeddings of faces in photos: detect (BlazeFace), take the largest face, its five
/// points from the face mesh (eye contour centroids, nose tip, mouth corners) or, without the
/// mesh, from the detector's keypoints (`FaceAlignment.points(from:)`), align to the 112x112
/// template (insightface's norm_crop), run the network, scale to unit length.
public final class FaceEmbedder: @unchecked Sendable {
    public let arcface: ArcFace
    let faces: FaceModels
    let useMesh: Bool

    /// `arcfaceFolder`: made by training/convert_arcface.py; `faces`: the detector and mesh the
    /// front end located; `useMesh: false` always takes the detector's keypoints.
    public convenience init(arcfaceFolder: URL, faces: FaceModels, useMesh: Bool = true) throws {
        self.init(arcface: try ArcFace(folder: arcfaceFolder), faces: faces, useMesh: useMesh)
    }

    public init(arcface: ArcFace, faces: FaceModels, useMesh: Bool = true) {
        self.arcface = arcface
        self.faces = faces
        self.useMesh = useMesh
    }

    /// The unit-length embedding of the largest face in `image` (`file` names it in errors).
    public func faceEmbedding(of image: RGBImage, file: String = "image") throws -> [Float] {
        try embed(image, file: file).values
    }

    /// The embedding with the points, crop and face it came from.
    public func embed(_ image: RGBImage, file: String) throws -> FaceEmbedding {
        let detections = try faces.detector().detect(image)
        guard let face = detections.max(by: { $0.box.area < $1.box.area }) else {
            throw ReferencePreparationError.noFaceForEmbedding(file: file)
        }
        var points = FaceAlignment.points(from: face), source = "detector keypoints"
        if useMesh, let mesh = try faces.mesh() {
            let landmarks = mesh.landmarks(in: image, detection: face)
            if mesh.isFace(landmarks) {
                points = landmarks.alignmentPoints
                source = "face mesh"
            }
        }
        let aligned = FaceAlignment.align(image, points: points, size: arcface.config.inputSize).image
        let raw = arcface.embedding(ofAligned: aligned)
        let norm = raw.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return FaceEmbedding(values: raw.map { $0 / max(norm, 1e-12) }, norm: norm, points: points, pointsSource: source,
                             aligned: aligned, face: face, faceCount: detections.count)
    }
}
