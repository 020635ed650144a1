import Foundation
import Models

/// Picks the scorer for a model, once, at the front end (the CLI, the TUI's start):
/// 1. the model folder's own `evaluator/` (PhotoVerse-mini: drawn faces);
/// 2. else dlib's face recognition from a `dlib-face/` folder: the one given (`--face-scorer`),
///    else `$PHOTOVERSE_FACE_SCORER`, else the shipped `Models/dlib-face` (see ShippedResources);
/// 3. else none: results carry no score.
/// A folder that is there but cannot be loaded is an error; a default that is absent is not.
public enum FaceScorerLocator {
    public static let folderName = "dlib-face"

    /// `dlibFolder`: `--face-scorer`, else the located `Models/dlib-face` (ShippedResources);
    /// nil: no dlib scorer. `faces` gives dlib's crop its face detector.
    public static func scorer(model: URL?, dlibFolder: URL?, faces: FaceModels) throws -> FaceScorer? {
        if let model {
            let evaluator = model.appendingPathComponent(PhotoVerseEvaluatorScorer.folderName, isDirectory: true)
            if FileManager.default.fileExists(atPath: evaluator.path) {
                return try PhotoVerseEvaluatorScorer(folder: evaluator)
            }
        }
        guard let folder = dlibFolder else { return nil }
        return try DlibFaceScorer(folder: folder, detector: try faces.detector())
    }
}
