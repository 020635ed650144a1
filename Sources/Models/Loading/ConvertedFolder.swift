import Foundation
import Formats

/// A folder that a `training/convert_*.py` script wrote: `config.json`, which names the weights
/// file beside it. The face detector, the face mesh and ArcFace are loaded from one.
enum ConvertedFolder {
    /// The decoded config and its weights; `howToMake` says which script writes the folder.
    static func load<Config>(_ folder: URL, howToMake: String, config decode: (URL) throws -> Config,
                             weightsFile: (Config) -> String) throws -> (config: Config, weights: SafetensorsWeightSource) {
        let configURL = folder.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw ModelError.missingFile("\(configURL.path.terminalSafe): not found; \(howToMake)")
        }
        let config = try decode(configURL)
        let weightsURL = folder.appendingPathComponent(weightsFile(config))
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw ModelError.missingFile("\(weightsURL.path.terminalSafe): not found (named by \(configURL.path.terminalSafe))")
        }
        return (config, try SafetensorsWeightSource(url: weightsURL))
    }
}
