import Foundation
import Formats
import TensorCore

/// The cheap preview: latents → RGB by a fixed (channels x 3) linear map plus a bias, no VAE
/// needed, so it costs nothing per step. A model folder may ship its own map, fitted to its
/// latent space, as `vae/latent_preview.json` (PhotoVerse-mini does: training/photoverse_train/
/// latent_preview.py); without one, 4-channel latents use SD1.x's community-measured map.
public struct LatentPreview: Equatable, Sendable {
    public static let fileName = "latent_preview.json"

    /// One [r, g, b] row per latent channel; the result is in [-1, 1] before display.
    public let factors: [[Float]]
    public let bias: [Float]

    public static let stableDiffusion = LatentPreview(factors: [
        [0.298, 0.207, 0.208],
        [0.187, 0.286, 0.173],
        [-0.158, 0.189, 0.264],
        [-0.184, -0.271, -0.473],
    ], bias: [0, 0, 0])

    public init(factors: [[Float]], bias: [Float]) {
        self.factors = factors
        self.bias = bias
    }

    /// The map for a model whose VAE is in `vaeFolder`: its `latent_preview.json` when there is
    /// one (refused with a one-line error naming the file when it does not fit `latentChannels`),
    /// else SD's for 4-channel latents, else nil (no latent preview for this model).
    public static func forModel(vaeFolder: URL, latentChannels: Int) throws -> LatentPreview? {
        let url = vaeFolder.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            return latentChannels == stableDiffusion.factors.count ? stableDiffusion : nil
        }
        return try load(url, latentChannels: latentChannels)
    }

    public static func load(_ url: URL, latentChannels: Int) throws -> LatentPreview {
        let file = try JSONConfig.load(LatentPreviewFile.self, from: url)
        guard file.latentRgbFactors.count == latentChannels else {
            throw FormatError(file: url.path, problem: .invalidConfig,
                              message: "latent_rgb_factors has \(file.latentRgbFactors.count) rows; the VAE has \(latentChannels) latent channels (one row each)")
        }
        return LatentPreview(factors: file.latentRgbFactors, bias: file.latentRgbFactorsBias ?? [0, 0, 0])
    }

    /// latents [1, C, h, w] (C = the map's rows) → [1, 3, h, w] in [0, 1].
    public func project(_ latents: Tensor) -> Tensor {
        let channels = latents.shape[1], h = latents.shape[2], w = latents.shape[3], plane = h * w
        precondition(channels == factors.count, "latent preview: \(channels) latent channels, map for \(factors.count)")
        let out = Tensor(shape: [1, 3, h, w])
        for c in 0..<3 {
            let dst = out.data + c * plane
            for i in 0..<plane { dst[i] = bias[c] }
            for l in 0..<channels {
                let f = factors[l][c], src = latents.data + l * plane
                for i in 0..<plane { dst[i] += f * src[i] }
            }
            for i in 0..<plane { dst[i] = min(max((dst[i] + 1) / 2, 0), 1) }
        }
        return out
    }
}

/// `vae/latent_preview.json` as written (key names as ComfyUI's for the same map).
struct LatentPreviewFile: Decodable, ValidatedConfig {
    let latentRgbFactors: [[Float]]
    let latentRgbFactorsBias: [Float]?

    enum CodingKeys: String, CodingKey {   // spelled out so that errors name the keys as the file does
        case latentRgbFactors = "latent_rgb_factors", latentRgbFactorsBias = "latent_rgb_factors_bias"
    }

    func validate(file: String) throws {
        func fail(_ message: String) -> FormatError { FormatError(file: file, problem: .invalidConfig, message: message) }
        if latentRgbFactors.isEmpty { throw fail("latent_rgb_factors is empty (one [r, g, b] row per latent channel)") }
        for (i, row) in latentRgbFactors.enumerated() {
            if row.count != 3 { throw fail("latent_rgb_factors[\(i)] has \(row.count) values, expected 3 (r, g, b)") }
            if let bad = row.first(where: { !$0.isFinite || abs($0) > 1e3 }) { throw fail("latent_rgb_factors[\(i)] holds \(bad), expected a finite factor of at most 1000 in size") }
        }
        if let bias = latentRgbFactorsBias {
            if bias.count != 3 { throw fail("latent_rgb_factors_bias has \(bias.count) values, expected 3 (r, g, b)") }
            if let bad = bias.first(where: { !$0.isFinite || abs($0) > 1e3 }) { throw fail("latent_rgb_factors_bias holds \(bad), expected a finite value of at most 1000 in size") }
        }
    }
}
