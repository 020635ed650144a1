import Foundation
import Models

/// Finds and loads the face detector once per process (`Models/face-detector`, made by
/// training/convert_blazeface.py and shipped in the repository).
///
/// Looked for, in order: `$PHOTOVERSE_FACE_DETECTOR`; `Models/face-detector` under the
/// working directory; under the executable's folder and its ancestors (a build in
/// `.build/release` of a checkout); under the source checkout this was compiled from.
public enum FaceDetectorLocator {
    public static let environmentVariable = "PHOTOVERSE_FACE_DETECTOR"

    nonisolated(unsafe) private static var cached: FaceDetector?
    private static let lock = NSLock()

    /// The folders tried, in order.
    public static func candidates() -> [URL] {
        candidates(folderName: FaceDetector.folderName, environmentVariable: environmentVariable)
    }

    /// `$environmentVariable` alone when set; else `Models/folderName` under the working
    /// directory, under the executable's folder and its ancestors, and under the checkout.
    static func candidates(folderName: String, environmentVariable: String) -> [URL] {
        var found: [URL] = []
        if let path = ProcessInfo.processInfo.environment[environmentVariable], !path.isEmpty {
            return [URL(fileURLWithPath: path, isDirectory: true)]
        }
        let relative = "Models/\(folderName)"
        found.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(relative))
        var folder = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            found.append(folder.appendingPathComponent(relative))
            folder = folder.deletingLastPathComponent()
        }
        // Sources/Pipeline/Reference/this file -> the checkout's root.
        var source = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { source = source.deletingLastPathComponent() }
        found.append(source.appendingPathComponent(relative))
        return found
    }

    /// The shared detector, loaded on first use.
    public static func shared() throws -> FaceDetector {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let folders = candidates()
        guard let folder = folders.first(where: {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path)
        }) else {
            let tried = folders.map(\.path).joined(separator: ", ")
            throw ReferencePreparationError.detectorUnavailable("no \(FaceDetector.folderName)/config.json in \(tried) (set \(environmentVariable))")
        }
        do {
            let detector = try FaceDetector(folder: folder)
            cached = detector
            return detector
        } catch {
            throw ReferencePreparationError.detectorUnavailable("\(error)")
        }
    }
}
