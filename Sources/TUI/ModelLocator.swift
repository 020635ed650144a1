import Foundation

/// Which model folder the UI opens: `--model DIR`, else $PHOTOVERSE_MODEL, else the embedded
/// `Models/mini` the front end located (ShippedResources).
public enum ModelLocator {
    public static let environmentVariable = "PHOTOVERSE_MODEL"
    public static let embeddedPath = "Models/mini"

    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    public static func resolve(flag: String?, embedded: URL?,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        let url: URL
        if let flag {
            url = URL(fileURLWithPath: flag)
        } else if let value = environment[environmentVariable], !value.isEmpty {
            url = URL(fileURLWithPath: value)
        } else if let embedded {
            url = embedded
        } else {
            throw Missing(description: "no model: \(embeddedPath) was not found next to the program; pass --model DIR (a diffusers-layout folder) or set \(environmentVariable)")
        }
        let source = flag != nil ? "--model" : environment[environmentVariable].map { _ in environmentVariable } ?? embeddedPath
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent("unet/config.json").path) else {
            throw Missing(description: "\(url.path) (\(source)): not a model folder (no unet/config.json); pass --model DIR with a diffusers-layout folder")
        }
        return url
    }
}
