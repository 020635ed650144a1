import Foundation
import Formats
import Tokenizer

/// A diffusers-layout model folder: `unet/`, `vae/`, `text_encoder/`, `tokenizer/`,
/// `scheduler/`, each with its config and safetensors weights.
public struct ModelFolder {
    public let url: URL
    /// Whether large components keep their F16 weights half in memory (see `WeightResidence`).
    public var weightResidence = WeightResidence.automatic

    public init(_ url: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelError.missingFile("\(url.path.terminalSafe): not a model folder")
        }
        self.url = url
    }

    public func component(_ name: String) -> URL { url.appendingPathComponent(name, isDirectory: true) }

    /// The component's config decoded with diffusers' snake_case keys, then validated
    /// (`ValidatedConfig.validate(file:)`, through `JSONConfig`): loading and
    /// `photoverse inspect` run the same checks.
    public func config<T: Decodable>(_ type: T.Type, of name: String) throws -> T {
        let decoder = JSONConfig.snakeCaseDecoder()
        let file = component(name).appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ModelError.missingFile("\(file.path.terminalSafe): missing config")
        }
        return try JSONConfig.load(T.self, from: file, decoder: decoder)
    }

    var textConfigURL: URL { component("text_encoder").appendingPathComponent("config.json") }

    /// The tokenizer in `tokenizer/`, checked against the text encoder's config: every id it
    /// can produce must index the encoder's embedding table (else the first prompt would
    /// fail deep inside the encoder).
    public func loadTokenizer() throws -> CLIPTokenizer {
        let tokenizer = try CLIPTokenizer(folder: component("tokenizer"))
        try config(CLIPTextConfig.self, of: "text_encoder").validate(tokenizer: tokenizer, file: textConfigURL.path)
        return tokenizer
    }

    /// The component's weights: every `.safetensors` file in its folder. Pickled
    /// formats are refused, never loaded.
    public func weights(of name: String) throws -> SafetensorsWeightSource {
        let folder = component(name)
        // A linked component folder (taesd -> ../shared-taesd) is listed through its link.
        let files = (try? FileManager.default.contentsOfDirectory(at: folder.resolvingSymlinksInPath(), includingPropertiesForKeys: nil)) ?? []
        let safetensors = files.filter { $0.pathExtension == "safetensors" }.sorted { $0.path < $1.path }
        guard !safetensors.isEmpty else {
            if let pickled = files.first(where: { ["bin", "ckpt", "pt", "pth"].contains($0.pathExtension) }) {
                throw ModelError.unsupported("\(pickled.path.terminalSafe): pickled weights are never loaded; convert with training/convert_checkpoint.py")
            }
            throw ModelError.missingFile("\(folder.path.terminalSafe): no .safetensors weights")
        }
        return try SafetensorsWeightSource(urls: safetensors)
    }

    /// Builds one component from its folder; every weight problem is reported by name.
    private func build<Model>(_ component: String, _ make: (WeightPath) throws -> Model) throws -> Model {
        let source = try weights(of: component)
        let loader = WeightLoader(source: source)
        loader.keepsHalfPrecision = weightResidence.keepsHalf(halfPrecisionBytes: source.halfPrecisionBytes)
        let model = try make(loader.root)
        try loader.finish()
        return model
    }

    public func loadTextEncoder() throws -> CLIPTextModel {
        let config = try config(CLIPTextConfig.self, of: "text_encoder")
        return try build("text_encoder") { try CLIPTextModel(config: config, weights: $0) }
    }

    public func loadUNet() throws -> UNet2DConditionModel {
        let config = try config(UNetConfig.self, of: "unet")
        return try build("unet") { try UNet2DConditionModel(config: config, weights: $0) }
    }

    public func loadVAE() throws -> AutoencoderKL {
        let config = try config(VAEConfig.self, of: "vae")
        return try build("vae") { try AutoencoderKL(config: config, weights: $0) }
    }

    /// The CLIP vision encoder in `image_encoder/` (PhotoVerse's and IP-Adapter's image input);
    /// `withProjection` also loads `visual_projection` (IP-Adapter needs the image embeds).
    /// `component` "" loads a folder that is itself the encoder (config.json + weights).
    public func loadImageEncoder(withProjection: Bool = false, component: String = "image_encoder") throws -> CLIPVisionModel {
        let config = try config(CLIPVisionConfig.self, of: component)
        let loader = WeightLoader(source: try weights(of: component))
        let model = try CLIPVisionModel(config: config, weights: loader.root, withProjection: withProjection)
        // A text tower saved beside it (a full CLIPModel) is not an error, only unused.
        try loader.finish(checkingUnusedUnder: withProjection ? "v" : "vision_model")
        return model
    }

    public var hasImageEncoder: Bool { imageEncoderComponent != nil }

    /// "image_encoder" for a model folder, "" for a folder that is an image encoder itself.
    public var imageEncoderComponent: String? {
        for name in ["image_encoder", ""] where FileManager.default.fileExists(
            atPath: component(name).appendingPathComponent("config.json").path) {
            if name.isEmpty, FileManager.default.fileExists(atPath: url.appendingPathComponent("model_index.json").path) { continue }
            return name
        }
        return nil
    }

    /// The folder's own TAESD (`taesd/` with a config.json), if it has one.
    public static func tinyAutoencoderFolder(in folder: URL) -> URL? {
        let url = folder.appendingPathComponent(AutoencoderTiny.folderName, isDirectory: true)
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path) ? url : nil
    }

    /// The PhotoVerse adapter file shipped in the folder, if any.
    public var adapterFile: URL? {
        let file = url.appendingPathComponent(Self.adapterFileName)
        return FileManager.default.fileExists(atPath: file.path) ? file : nil
    }

    public static let adapterFileName = "photoverse-adapter.safetensors"

    /// Reference faces that ship with a model (`references/*.png`): already the image encoder's
    /// masked face crops, so they are used whole (crop none) unless a crop is asked for.
    public static let referencesFolderName = "references"

    /// The folder's shipped references, when it has any.
    public static func shippedReferences(in folder: URL) -> URL? {
        let url = folder.appendingPathComponent(referencesFolderName, isDirectory: true).standardizedFileURL
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue ? url : nil
    }

    /// Whether `file` is one of `folder`'s shipped references.
    public static func isShippedReference(_ file: URL, of folder: URL) -> Bool {
        guard let shipped = shippedReferences(in: folder) else { return false }
        return file.standardizedFileURL.resolvingSymlinksInPath().deletingLastPathComponent().path
            == shipped.resolvingSymlinksInPath().path
    }
}
