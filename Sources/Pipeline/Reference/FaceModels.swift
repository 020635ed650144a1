import Foundation
import Formats
import Models

/// The face detector and the face mesh from the folders the front end located (see
/// `ShippedResources`), each loaded on first use and kept: a run that never crops
/// automatically never loads them, and a missing detector is an error only when one is needed.
public final class FaceModels: @unchecked Sendable {
    public let detectorFolder: URL?
    public let meshFolder: URL?
    private let searched: [URL]
    private let lock = NSLock()
    private var loadedDetector: FaceDetector?
    private var loadedMesh: FaceMesh??

    public init(detectorFolder: URL?, meshFolder: URL?, searched: [URL] = []) {
        self.detectorFolder = detectorFolder
        self.meshFolder = meshFolder
        self.searched = searched
    }

    public convenience init(_ resources: ShippedResources) {
        self.init(detectorFolder: resources.faceDetector, meshFolder: resources.faceMesh, searched: resources.searched)
    }

    /// Models already loaded (`mesh` nil: none).
    public init(detector: FaceDetector, mesh: FaceMesh?) {
        detectorFolder = nil
        meshFolder = nil
        searched = []
        loadedDetector = detector
        loadedMesh = .some(mesh)
    }

    public func detector() throws -> FaceDetector {
        lock.lock()
        defer { lock.unlock() }
        if let loadedDetector { return loadedDetector }
        guard let folder = detectorFolder else {
            let tried = searched.map { $0.appendingPathComponent("Models/\(FaceDetector.folderName)").path.terminalSafe }
            throw ReferencePreparationError.detectorUnavailable(
                "no \(FaceDetector.folderName)/config.json in \(tried.joined(separator: ", ")) (set \(ShippedResources.faceDetectorVariable))")
        }
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) else {
            throw ReferencePreparationError.detectorUnavailable(
                "no \(FaceDetector.folderName)/config.json in \(folder.path.terminalSafe) (set \(ShippedResources.faceDetectorVariable))")
        }
        do {
            let detector = try FaceDetector(folder: folder)
            loadedDetector = detector
            return detector
        } catch {
            throw ReferencePreparationError.detectorUnavailable("\(error)")
        }
    }

    /// The mesh, or nil when there is none (it is optional). A folder that has one but cannot
    /// be loaded is an error, not a silent fallback.
    public func mesh() throws -> FaceMesh? {
        lock.lock()
        defer { lock.unlock() }
        if let loadedMesh { return loadedMesh }
        guard let folder = meshFolder, FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) else {
            loadedMesh = .some(nil)
            return nil
        }
        do {
            let mesh = try FaceMesh(folder: folder)
            loadedMesh = mesh
            return mesh
        } catch {
            throw ReferencePreparationError.meshUnavailable("\(error)")
        }
    }
}
