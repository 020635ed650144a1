import Foundation
import Formats
import Models

/// PhotoVerse-mini's own evaluator (`evaluator/` in its folder): the identity network its
/// evaluation reports "ID similarity" with, trained on its drawn faces only. It has no face
/// detector: like the evaluation, it crops every image at the face box the config gives
/// (where the generator puts faces), scaled to the image; without that box it scores nothing.
public final class PhotoVerseEvaluatorScorer: FaceScorer, @unchecked Sendable {
    public let name = "mini evaluator"
    public static let folderName = "evaluator"
    public let network: PhotoVerseEvaluator
    let lock = NSLock()

    public init(folder: URL) throws {
        let configURL = folder.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw ModelError.missingFile("\(configURL.path): not found (FORMAT.md section 12)")
        }
        let config = try PhotoVerseEvaluatorConfig.load(configURL)
        let loader = WeightLoader(source: try SafetensorsWeightSource(url: folder.appendingPathComponent("model.safetensors")))
        network = try PhotoVerseEvaluator(loader.root, config: config)
        try loader.finish()
    }

    public func embedding(of image: RGBImage, isReference: Bool) -> [Float]? {
        guard let faceBox = network.config.faceBox else { return nil }
        let sx = Double(image.width) / Double(faceBox.imageSize), sy = Double(image.height) / Double(faceBox.imageSize)
        let box = [faceBox.box[0] * sx, faceBox.box[1] * sy, faceBox.box[2] * sx, faceBox.box[3] * sy]
        lock.lock()
        defer { lock.unlock() }
        return network(network.crop(image.alpha == nil ? image : image.flattened(), box: box)).scalars
    }

    public func score(_ generated: [Float], _ reference: [Float]) -> IdentityScore {
        let cosine = zip(generated, reference).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        return IdentityScore(match: max(0, min(1, cosine)), scorer: name)
    }
}
