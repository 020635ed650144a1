import Foundation
import Formats

/// What the UI shows about a model folder before and after loading: its name and the image
/// size it was trained at (unet sample_size x the VAE's downscale, from the folder's configs).
public struct ModelFolderSummary: Equatable, Sendable {
    public let name: String
    public let nativeSize: Int

    struct UNetConfigFields: Decodable { let sample_size: Int? }
    struct VAEConfigFields: Decodable { let block_out_channels: [Int]? }

    public init(folder: URL) {
        name = folder.standardizedFileURL.lastPathComponent
        let unet = try? JSONConfig.load(UNetConfigFields.self, from: folder.appendingPathComponent("unet/config.json"))
        let vae = try? JSONConfig.load(VAEConfigFields.self, from: folder.appendingPathComponent("vae/config.json"))
        let downscale = 1 << max(0, (vae?.block_out_channels?.count ?? 4) - 1)
        nativeSize = (unet?.sample_size ?? 64) * downscale
    }
}
