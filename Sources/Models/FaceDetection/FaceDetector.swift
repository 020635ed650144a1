import Foundation
import Formats
import TensorCore

/// Finds faces in a photo with MediaPipe's short-range BlazeFace (converted by
/// training/convert_blazeface.py into `face-detector/`): letterbox to 128x128, the network,
/// anchor decoding, weighted non-max suppression, back to source pixels.
///
/// Made for faces that fill a good part of the frame (selfies, portraits): faces under
/// about a tenth of the photo's longer side are often missed.
public final class FaceDetector: @unchecked Sendable {
    public let config: FaceDetectorConfig
    public let network: BlazeFaceNetwork
    public let anchors: [SSDAnchor]

    /// The folder name the converter writes (`Models/face-detector`).
    public static let folderName = "face-detector"

    /// Loads `config.json` and the weights file it names from `folder`.
    public convenience init(folder: URL) throws {
        let (config, weights) = try ConvertedFolder.load(folder, howToMake: "make it with training/convert_blazeface.py",
                                                         config: FaceDetectorConfig.load, weightsFile: \.weightsFile)
        try self.init(config: config, weights: weights)
    }

    public init(config: FaceDetectorConfig, weights: WeightSource) throws {
        let loader = WeightLoader(source: weights)
        network = try BlazeFaceNetwork(loader.root, config: config)
        try loader.finish()
        self.config = config
        anchors = SSDAnchors.generate(config.anchors)
        guard anchors.count == config.decoding.numBoxes else {
            throw ModelError.invalidInput("\(weights.origin): the anchor options give \(anchors.count) anchors, the model has \(config.decoding.numBoxes) boxes")
        }
    }

    /// Faces in `image`, in its pixels, best score first. `minScore` overrides the
    /// config's threshold (0.5).
    public func detect(_ image: RGBImage, minScore: Float? = nil) -> [FaceDetection] {
        let letterbox = DetectorLetterbox(width: image.width, height: image.height)
        return detectRelative(letterbox.input(image, size: config.inputSize), minScore: minScore).map(letterbox.toSource)
    }

    /// Faces in a prepared [1, 3, size, size] input in [-1, 1], relative to it (0...1).
    public func detectRelative(_ input: Tensor, minScore: Float? = nil) -> [FaceDetection] {
        let (scores, regressors) = network(input)
        let found = DetectionDecoder.decode(scores: scores, regressors: regressors, anchors: anchors,
                                            options: config.decoding, minScore: minScore)
        return NonMaxSuppression.apply(found, threshold: config.nms.minSuppressionThreshold,
                                       weighted: config.nms.algorithm == "WEIGHTED")
    }
}
