import Foundation
import Models

/// Finds and loads the face mesh once per process (`Models/face-mesh`, made by
/// training/convert_face_mesh.py and shipped beside `Models/face-detector`), in the same
/// places FaceDetectorLocator looks: `$PHOTOVERSE_FACE_MESH` (`none` turns the mesh off), then
/// `Models/face-mesh` under the working directory, the executable's folders and the checkout.
///
/// The mesh is optional: without it reference preparation keeps the elliptical mask and the
/// unrotated crop, and alignment uses the detector's keypoints.
public enum FaceMeshLocator {
    public static let environmentVariable = "PHOTOVERSE_FACE_MESH"

    nonisolated(unsafe) private static var cached: FaceMesh??
    private static let lock = NSLock()

    public static func candidates() -> [URL] {
        if ProcessInfo.processInfo.environment[environmentVariable]?.lowercased() == "none" { return [] }
        return FaceDetectorLocator.candidates(folderName: FaceMesh.folderName, environmentVariable: environmentVariable)
    }

    /// The shared mesh, loaded on first use; nil when no candidate folder has one. A folder
    /// that has one but cannot be loaded is an error, not a silent fallback.
    public static func sharedIfAvailable() throws -> FaceMesh? {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        guard let folder = candidates().first(where: {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path)
        }) else {
            cached = .some(nil)
            return nil
        }
        do {
            let mesh = try FaceMesh(folder: folder)
            cached = mesh
            return mesh
        } catch {
            throw ReferencePreparationError.meshUnavailable("\(error)")
        }
    }
}
