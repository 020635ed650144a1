import Foundation
import Formats
import TensorCore

/// MediaPipe's face mesh (converted by training/convert_face_mesh.py into `face-mesh/`): the
/// 468 landmarks of a face found by the detector, as its face_landmark_front graph computes
/// them: a rotated square region around the detection (eyes level, 1.5x the box), resampled to
/// 192x192 (bilinear, edges replicated), the network, the points projected back.
public final class FaceMesh: @unchecked Sendable {
    public let config: FaceMeshConfig
    public let network: FaceMeshNetwork

    /// The folder name the converter writes (`Models/face-mesh`).
    public static let folderName = "face-mesh"

    /// Loads `config.json` and the weights file it names from `folder`.
    public convenience init(folder: URL) throws {
        let (config, weights) = try ConvertedFolder.load(folder, howToMake: "make it with training/convert_face_mesh.py",
                                                         config: FaceMeshConfig.load, weightsFile: \.weightsFile)
        try self.init(config: config, weights: weights)
    }

    public init(config: FaceMeshConfig, weights: WeightSource) throws {
        let loader = WeightLoader(source: weights)
        network = try FaceMeshNetwork(loader.root, config: config)
        try loader.finish()
        self.config = config
    }

    /// The network's input for a region: the crop, as bytes.
    public func inputImage(_ image: RGBImage, region: FaceRegion) -> RGBImage {
        image.warped(width: config.inputSize, height: config.inputSize,
                     outputToSource: region.cropToSource(size: config.inputSize), border: .replicate)
    }

    /// The landmarks of the face `detection` found (source pixels; the detector's keypoints
    /// give the eye line). `presence` says whether the network saw a face at all.
    public func landmarks(in image: RGBImage, detection: FaceDetection) -> FaceLandmarks {
        precondition(detection.keypoints.count > config.roi.rotationKeypoints.max()!,
                     "the detection has \(detection.keypoints.count) keypoints; the face mesh needs the eyes")
        let region = FaceRegion(detection: detection, options: config.roi)
        let crop = inputImage(image, region: region).tensor(range: .zeroToOne)
        let low = config.inputRange[0], high = config.inputRange[1]
        let input = low == 0 && high == 1 ? crop : crop * (high - low) + low
        return landmarks(raw: network(input), region: region)
    }

    /// Raw network outputs for `region` -> landmarks (TensorsToLandmarks, LandmarkProjection).
    public func landmarks(raw: (landmarks: [Float], presenceLogit: Float), region: FaceRegion) -> FaceLandmarks {
        let size = Float(config.inputSize)
        let points = (0..<config.numLandmarks).map { region.project(raw.landmarks[3 * $0] / size, raw.landmarks[3 * $0 + 1] / size) }
        let presence = 1 / (1 + Foundation.exp(-raw.presenceLogit))
        return FaceLandmarks(points: points, presence: presence, region: region, config: config)
    }

    /// Whether `landmarks` passed MediaPipe's presence threshold.
    public func isFace(_ landmarks: FaceLandmarks) -> Bool { landmarks.presence >= config.presenceThreshold }
}
