import Foundation

/// The folders PhotoVerse ships beside the program, located once by the front end (the CLI, at
/// start) and passed on explicitly: nothing below the front end looks for files by itself.
///
/// Each `Models/...` folder and `themes/` is looked for under the working directory, then the
/// executable's folder and its ancestors (a build in `.build/release` of a checkout), then the
/// checkout the program was built from (an installed binary). An environment variable names a
/// folder outright: `$PHOTOVERSE_FACE_DETECTOR`, `$PHOTOVERSE_FACE_MESH` (`none` turns the mesh
/// off), `$PHOTOVERSE_FACE_SCORER`.
public struct ShippedResources: Sendable, Equatable {
    /// `Models/face-detector` (BlazeFace, made by training/convert_blazeface.py).
    public var faceDetector: URL?
    /// `Models/face-mesh` (optional: without it the crop keeps the ellipse mask).
    public var faceMesh: URL?
    /// `Models/dlib-face` (dlib's face recognition, the default face scorer on photos).
    public var dlibFace: URL?
    /// `Models/mini`, the embedded model `photoverse ui` opens by default.
    public var embeddedModel: URL?
    /// `themes/`, the shipped UI themes.
    public var themes: URL?
    /// The folders relative paths were looked for under, in order (named in messages).
    public var searched: [URL]

    public static let faceDetectorVariable = "PHOTOVERSE_FACE_DETECTOR"
    public static let faceMeshVariable = "PHOTOVERSE_FACE_MESH"
    public static let faceScorerVariable = "PHOTOVERSE_FACE_SCORER"

    public init(faceDetector: URL? = nil, faceMesh: URL? = nil, dlibFace: URL? = nil, embeddedModel: URL? = nil,
                themes: URL? = nil, searched: [URL] = []) {
        self.faceDetector = faceDetector
        self.faceMesh = faceMesh
        self.dlibFace = dlibFace
        self.embeddedModel = embeddedModel
        self.themes = themes
        self.searched = searched
    }

    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment,
                              workingDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                              executable: URL? = Bundle.main.executableURL) -> ShippedResources {
        let roots = searchRoots(workingDirectory: workingDirectory, executable: executable)
        func find(_ relative: String, marker: String = "") -> URL? {
            roots.lazy.map { $0.appendingPathComponent(relative, isDirectory: true) }
                .first { FileManager.default.fileExists(atPath: marker.isEmpty ? $0.path : $0.appendingPathComponent(marker).path) }
        }
        func named(_ variable: String) -> URL? {
            environment[variable].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0, isDirectory: true) }
        }
        let meshSetting = environment[faceMeshVariable]
        return ShippedResources(
            faceDetector: named(faceDetectorVariable) ?? find("Models/face-detector", marker: "config.json"),
            faceMesh: meshSetting?.lowercased() == "none" ? nil : named(faceMeshVariable) ?? find("Models/face-mesh", marker: "config.json"),
            dlibFace: named(faceScorerVariable) ?? find("Models/dlib-face", marker: "resnet.json"),
            embeddedModel: find("Models/mini"),
            themes: find("themes"),
            searched: roots)
    }

    /// The working directory, the executable's folder and each of its ancestors, the checkout.
    static func searchRoots(workingDirectory: URL, executable: URL?) -> [URL] {
        var roots = [workingDirectory]
        if var folder = executable?.resolvingSymlinksInPath().deletingLastPathComponent() {
            while folder.path != "/" {
                roots.append(folder)
                folder.deleteLastPathComponent()
            }
        }
        // Sources/Pipeline/Resources/this file -> the checkout's root.
        var source = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { source.deleteLastPathComponent() }
        roots.append(source)
        var seen = Set<String>()
        return roots.filter { seen.insert($0.standardizedFileURL.path).inserted }
    }
}
