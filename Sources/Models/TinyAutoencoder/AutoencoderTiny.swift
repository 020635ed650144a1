import Foundation
import Formats
import TensorCore

/// diffusers' `AutoencoderTiny` (TAESD): a small distilled stand-in for the SD VAE, built from its
/// config. It decodes in a fraction of the VAE's work, for previews and fast final images.
public struct AutoencoderTiny {
    public let config: TinyAutoencoderConfig
    let encoder: TinyEncoder
    let decoder: TinyDecoder

    public init(config: TinyAutoencoderConfig, weights path: WeightPath) throws {
        guard let activation = config.activation else {
            throw ModelError.unsupported("TAESD act_fn \(config.actFn.terminalSafe)")
        }
        self.config = config
        encoder = try TinyEncoder(path("encoder"), config: config, activation: activation)
        decoder = try TinyDecoder(path("decoder"), config: config, activation: activation)
    }

    /// An image in [-1, 1] → latents (multiply by `scalingFactor` for the UNet's; TAESD's is 1).
    public func encode(_ image: Tensor, stop: StopFlag? = nil) throws -> Tensor {
        try encoder(image, stop: stop)
    }

    /// Latents already divided by `scalingFactor` → an image in about [-1, 1] (not clamped).
    public func decode(_ latents: Tensor, stop: StopFlag? = nil) throws -> Tensor {
        try decoder(latents, stop: stop)
    }

    /// The UNet's latents → RGB in [0, 1], as diffusers' pipeline does with `vae=AutoencoderTiny`:
    /// `decode(latents / scaling_factor)`, then `(x / 2 + 0.5).clamp(0, 1)`.
    public func decodeToImage(_ latents: Tensor, stop: StopFlag? = nil) throws -> Tensor {
        try decode(latents / config.scalingFactor, stop: stop).map { min(max($0 / 2 + 0.5, 0), 1) }
    }

    /// The folder name a model folder keeps its TAESD in.
    public static let folderName = "taesd"

    /// Loads a TAESD folder (diffusers layout: config.json + diffusion_pytorch_model.safetensors,
    /// F16 or F32); every config and weight problem is one line naming the file.
    /// `check` sees the config before any weight is read (a TAESD for another model is refused
    /// by what it is, not by a list of mis-shaped tensors).
    public static func load(folder url: URL, check: (TinyAutoencoderConfig) throws -> Void = { _ in }) throws -> AutoencoderTiny {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelError.missingFile("\(url.path.terminalSafe): no such TAESD folder (config.json + diffusion_pytorch_model.safetensors)")
        }
        let folder = try ModelFolder(url)
        let config = try folder.config(TinyAutoencoderConfig.self, of: "")
        try check(config)
        let loader = WeightLoader(source: try folder.weights(of: ""))
        let model = try AutoencoderTiny(config: config, weights: loader.root)
        try loader.finish()
        return model
    }
}
