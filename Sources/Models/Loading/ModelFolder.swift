import Foundation
import Formats

/// A diffusers-layout model folder: `unet/`, `vae/`, `text_encoder/`, `tokenizer/`,
/// `scheduler/`, each with its config and safetensors weights.
public struct ModelFolder {
    public let url: URL

    public init(_ url: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelError.missingFile("\(url.path): not a model folder")
        }
        self.url = url
    }

    public func component(_ name: String) -> URL { url.appendingPathComponent(name, isDirectory: true) }

    /// The component's config decoded with diffusers' snake_case keys.
    public func config<T: Decodable>(_ type: T.Type, of name: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let file = component(name).appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ModelError.missingFile("\(file.path): missing config")
        }
        return try JSONConfig.load(T.self, from: file, decoder: decoder)
    }

    /// The component's weights: every `.safetensors` file in its folder. Pickled
    /// formats are refused, never loaded.
    public func weights(of name: String) throws -> SafetensorsWeightSource {
        let folder = component(name)
        let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        let safetensors = files.filter { $0.pathExtension == "safetensors" }.sorted { $0.path < $1.path }
        guard !safetensors.isEmpty else {
            if let pickled = files.first(where: { ["bin", "ckpt", "pt", "pth"].contains($0.pathExtension) }) {
                throw ModelError.unsupported("\(pickled.path): pickled weights are never loaded; convert with training/convert_checkpoint.py")
            }
            throw ModelError.missingFile("\(folder.path): no .safetensors weights")
        }
        return try SafetensorsWeightSource(urls: safetensors)
    }

    public func loadTextEncoder() throws -> CLIPTextModel {
        let loader = WeightLoader(source: try weights(of: "text_encoder"))
        let model = try CLIPTextModel(config: try config(CLIPTextConfig.self, of: "text_encoder"), weights: loader.root)
        // position_ids is a buffer some exports include; it is not a weight.
        try loader.finish(checkingUnusedUnder: nil)
        let unused = loader.unused(under: "").filter { !$0.hasSuffix("position_ids") }
        if !unused.isEmpty { throw WeightLoadError(origin: loader.source!.origin, problems: unused.map { .unexpected($0) }) }
        return model
    }

    public func loadUNet() throws -> UNet2DConditionModel {
        let loader = WeightLoader(source: try weights(of: "unet"))
        let model = try UNet2DConditionModel(config: try config(UNetConfig.self, of: "unet"), weights: loader.root)
        try loader.finish()
        return model
    }

    public func loadVAE() throws -> AutoencoderKL {
        let loader = WeightLoader(source: try weights(of: "vae"))
        let model = try AutoencoderKL(config: try config(VAEConfig.self, of: "vae"), weights: loader.root)
        try loader.finish()
        return model
    }
}
