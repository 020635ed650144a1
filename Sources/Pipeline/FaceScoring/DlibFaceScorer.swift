import Foundation
import Formats
import Models
import TensorCore

/// dlib's face recognition (the ResNet of the `face_recognition_models` wheel, converted by
/// training/convert_dlib_face.py into a `dlib-face/` folder): BlazeFace finds the face, dlib's
/// 5-point shape predictor its eye corners and nose in that box, dlib's aligned 150x150 chip
/// goes through the ResNet. Real photos only; drawn faces score meaninglessly.
public final class DlibFaceScorer: FaceScorer, @unchecked Sendable {
    public let name = "dlib"
    public let network: DlibFaceResNet
    public let landmarks: DlibShapePredictor
    let detector: FaceDetector
    let lock = NSLock()

    /// The files a `dlib-face/` folder holds.
    public static let files = ["resnet.json", "resnet.safetensors", "landmarks.safetensors"]

    public init(folder: URL, detector: FaceDetector) throws {
        for file in Self.files where !FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path) {
            throw ModelError.missingFile("\(folder.appendingPathComponent(file).path): not found; make the folder with training/convert_dlib_face.py")
        }
        let config = try DlibResNetConfig.load(folder.appendingPathComponent("resnet.json"))
        let loader = WeightLoader(source: try SafetensorsWeightSource(url: folder.appendingPathComponent("resnet.safetensors")))
        network = try DlibFaceResNet(loader.root, config: config)
        try loader.finish()
        landmarks = try DlibShapePredictor(url: folder.appendingPathComponent("landmarks.safetensors"))
        guard landmarks.points == 5 else {
            throw ModelError.invalidInput("\(folder.appendingPathComponent("landmarks.safetensors").path): \(landmarks.points) landmarks; the face chip needs dlib's 5-point model")
        }
        self.detector = detector
    }

    /// The rectangle dlib's predictor runs in: the detector's box, rounded to pixels.
    static func rectangle(_ box: BoundingBox) -> DlibRectangle {
        DlibRectangle(left: Int(box.xmin.rounded()), top: Int(box.ymin.rounded()),
                      right: Int(box.xmax.rounded()), bottom: Int(box.ymax.rounded()))
    }

    /// The aligned chip of the image's most confident face, or nil.
    public func chip(of image: RGBImage) -> RGBImage? {
        guard let face = detector.detect(image).first else { return nil }
        let points = landmarks(image, rect: Self.rectangle(face.box))
        return DlibFaceChip.extract(image, landmarks: points, size: network.config.chip.size, padding: network.config.chip.padding)
    }

    public func embedding(of image: RGBImage, isReference: Bool) -> [Float]? {
        lock.lock()
        defer { lock.unlock() }
        guard let chip = chip(of: image.alpha == nil ? image : image.flattened()) else { return nil }
        return network(chips: [chip]).scalars
    }

    public func score(_ generated: [Float], _ reference: [Float]) -> IdentityScore {
        let distance = zip(generated, reference).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot()
        return IdentityScore(match: Self.match(distance: distance, threshold: Double(network.config.distanceThreshold)),
                             scorer: name, distance: distance)
    }

    /// The displayed figure: 1 − distance / (2 · threshold), clamped to 0...1, so dlib's own
    /// same-person threshold (0.6) reads 0.5 and identical descriptors 1.
    public static func match(distance: Double, threshold: Double) -> Double {
        max(0, min(1, 1 - distance / (2 * threshold)))
    }
}
