import Foundation
import Models

/// Picks the scorer for a model, once, at the front end (the CLI, the TUI's start):
/// 1. the model folder's own `evaluator/` (PhotoVerse-mini: drawn faces);
/// 2. else dlib's face recognition from a `dlib-face/` folder: the one given (`--face-scorer`),
///    else `$PHOTOVERSE_FACE_SCORER`, else `Models/dlib-face` where the face detector was found;
/// 3. else none: results carry no score.
/// A folder that is there but cannot be loaded is an error; a default that is absent is not.
public enum FaceScorerLocator {
    public static let environmentVariable = "PHOTOVERSE_FACE_SCORER"
    public static let folderName = "dlib-face"

    /// The dlib folder: `given`, else the environment's, else `Models/dlib-face` beside the
    /// face detector folders that exist; nil when none is there.
    public static func dlibFolder(given: URL?) -> URL? {
        if let given { return given }
        if let path = ProcessInfo.processInfo.environment[environmentVariable], !path.isEmpty {
            return URL(fileURLWithPath: path, isDirectory: true)
        }
        for detector in FaceDetectorLocator.candidates() {
            let folder = detector.deletingLastPathComponent().appendingPathComponent(folderName, isDirectory: true)
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("resnet.json").path) { return folder }
        }
        return nil
    }

    public static func scorer(model: URL?, dlibFolder given: URL?) throws -> FaceScorer? {
        if let model {
            let evaluator = model.appendingPathComponent(PhotoVerseEvaluatorScorer.folderName, isDirectory: true)
            if FileManager.default.fileExists(atPath: evaluator.path) {
                return try PhotoVerseEvaluatorScorer(folder: evaluator)
            }
        }
        guard let folder = dlibFolder(given: given) else { return nil }
        return try DlibFaceScorer(folder: folder, detector: try FaceDetectorLocator.shared())
    }
}
