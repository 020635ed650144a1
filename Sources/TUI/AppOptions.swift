import Foundation
import Pipeline
import Terminal

/// What the `ui` command line chose (flags over environment over config file).
public struct AppOptions {
    public var modelFolder: URL
    public var images: ImageModeSetting
    /// A theme name or a .theme file; nil = the config's, else dark.
    public var theme: String?
    /// Start from this PNG's parameters (`--load`).
    public var loadFile: URL?
    /// Where results go; nil = the config's, else ~/Pictures/PhotoVerse.
    public var outputFolder: URL?
    public var environment: [String: String]
    /// What scores each result's likeness (picked by the front end: FaceScorerLocator); nil = no scores.
    public var faceScorer: FaceScorer?
    /// The shipped folders (face detector and mesh, themes) the front end located.
    public var resources: ShippedResources

    public init(modelFolder: URL, images: ImageModeSetting, resources: ShippedResources, theme: String? = nil,
                loadFile: URL? = nil, outputFolder: URL? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment, faceScorer: FaceScorer? = nil) {
        self.faceScorer = faceScorer
        self.resources = resources
        self.modelFolder = modelFolder
        self.images = images
        self.theme = theme
        self.loadFile = loadFile
        self.outputFolder = outputFolder
        self.environment = environment
    }

    public static func defaultOutputFolder(environment: [String: String]) -> URL {
        URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).appendingPathComponent("Pictures/PhotoVerse")
    }
}
