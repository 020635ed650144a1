import Foundation
import Formats
import Models
import TensorCore

/// The decoders from latents to pictures: the model's VAE and, when the front end hands one in,
/// its TAESD, for the final image (`FinalDecoder`) and each step's preview (`PreviewDecoder`).
extension GenerationPipeline {
    /// Loads the TAESD in `folder` for this model (once: the same folder again reuses it). Its
    /// latents must be the model's: as many channels, and as many pixels per latent as the VAE's.
    public func useTinyAutoencoder(folder url: URL) throws {
        guard url.standardizedFileURL != tinyAutoencoderFolder?.standardizedFileURL else { return }
        let file = url.appendingPathComponent("config.json").path.terminalSafe
        let latentChannels = unet.config.inChannels, downscale = vae.config.downscale
        let tiny = try AutoencoderTiny.load(folder: url) { config in
            guard config.latentChannels == latentChannels else {
                throw ModelError.invalidInput("\(file): TAESD latent_channels \(config.latentChannels) does not match the model's \(latentChannels) latent channels (a TAESD made for another model family?)")
            }
            guard config.upscale == downscale else {
                throw ModelError.invalidInput("\(file): this TAESD decodes \(config.upscale) pixels per latent, the model's VAE \(downscale) (upsampling_scaling_factor ^ (levels - 1) must match)")
            }
        }
        tinyAutoencoder = tiny
        tinyAutoencoderFolder = url
    }

    /// A request that asks for TAESD needs one loaded; refused before any work.
    func checkDecoders(decoder: FinalDecoder, preview: PreviewDecoder) throws {
        guard tinyAutoencoder == nil else { return }
        if decoder == .taesd { throw InvalidRequest("--decoder taesd: \(Self.noTinyAutoencoder)") }
        if preview == .taesd { throw InvalidRequest("--preview taesd: \(Self.noTinyAutoencoder)") }
    }

    static let noTinyAutoencoder = "no TAESD is loaded: the model folder has no \(AutoencoderTiny.folderName)/ (config.json + diffusion_pytorch_model.safetensors); give --taesd FOLDER"

    /// The finished latents as RGB in [0, 1].
    func decodeFinal(_ latents: Tensor, with decoder: FinalDecoder, stop: StopFlag?) throws -> Tensor {
        switch decoder {
        case .full:
            return try vae.decode(latents / vae.config.scalingFactor, stop: stop).map { min(max($0 / 2 + 0.5, 0), 1) }
        case .taesd:
            guard let tiny = tinyAutoencoder else { throw InvalidRequest("--decoder taesd: \(Self.noTinyAutoencoder)") }
            return try tiny.decodeToImage(latents, stop: stop)
        }
    }

    /// What draws a step's x₀ for `preview`. Automatic: TAESD when loaded (the picture at full
    /// size, cheap); else the model's VAE when it is small and the image too (PhotoVerse-mini:
    /// milliseconds); else (SD1.5's VAE takes seconds) the latent projection. Nil for `none`.
    /// A model without a latent map (`latentPreview` nil: not 4 channels, no latent_preview.json)
    /// is previewed by its VAE, and refuses `--preview latent`.
    func previewMaker(_ preview: PreviewDecoder, width: Int, height: Int) throws -> ((Tensor) -> Tensor)? {
        try checkDecoders(decoder: .full, preview: preview)
        let vae = self.vae
        let byVAE: (Tensor) -> Tensor = { vae.decode($0 / vae.config.scalingFactor).map { min(max($0 / 2 + 0.5, 0), 1) } }
        switch preview {
        case .none: return nil
        case .latent:
            guard let map = latentPreview else { throw InvalidRequest("--preview latent: \(Self.noLatentMap(vae))") }
            return { map.project($0) }
        case .vae: return byVAE
        case .taesd, .auto:
            if let tiny = tinyAutoencoder { return { try! tiny.decodeToImage($0) } }   // no stop flag: cannot throw
            let widest = vae.config.blockOutChannels.max() ?? 0
            guard let map = latentPreview, widest > 128 || width * height > 256 * 256 else { return byVAE }
            return { map.project($0) }
        }
    }

    static func noLatentMap(_ vae: AutoencoderKL) -> String {
        "this model's \(vae.config.latentChannels)-channel latents have no colour map (the model folder has no vae/\(LatentPreview.fileName)); use --preview vae or auto"
    }
}
