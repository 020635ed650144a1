import ArgumentParser
import Foundation
import Pipeline

/// `--face-scorer FOLDER`: where dlib's converted face recognition model is (a `dlib-face/`
/// folder made by training/convert_dlib_face.py). The scorer itself is picked once here and
/// passed on: the model's own evaluator first, else dlib, else none (FaceScorerLocator).
struct FaceScorerOption: ParsableArguments {
    @Option(name: .customLong("face-scorer"),
            help: "dlib face recognition folder for identity scores (default: $PHOTOVERSE_FACE_SCORER or Models/dlib-face when present).")
    var folder: String?

    /// The dlib folder: the flag's, else the located one (ShippedResources).
    var dlibFolder: URL? { folder.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? Shipped.resources.dlibFace }

    /// The scorer for a model folder, or nil when none fits it.
    func scorer(modelFolder: URL) throws -> FaceScorer? {
        try FaceScorerLocator.scorer(model: modelFolder, dlibFolder: dlibFolder, faces: Shipped.faces)
    }

    /// The scoring for a request's model, or nil when no scorer fits it.
    func scoring(for request: GenerationRequest) throws -> IdentityScoring? {
        let model = request.model.map { URL(fileURLWithPath: $0) }
        let modelFolder = model.flatMap { ["safetensors", "ckpt", "pt", "pth", "bin"].contains($0.pathExtension) ? nil : $0 }
        let scorer = try FaceScorerLocator.scorer(model: modelFolder, dlibFolder: dlibFolder, faces: Shipped.faces)
        return scorer.map(IdentityScoring.init)
    }
}
