import Formats

/// diffusers' `AutoencoderKL` config (vae/config.json); SD1.5 values as defaults.
public struct VAEConfig: Decodable, Equatable {
    public var inChannels = 3
    public var outChannels = 3
    public var latentChannels = 4
    public var blockOutChannels = [128, 256, 512, 512]
    public var layersPerBlock = 2
    public var normNumGroups = 32
    public var scalingFactor: Float = 0.18215
    public var sampleSize = 512

    public init() {}

    public static let sd15 = VAEConfig()

    /// Pixels per latent along each side (8 for SD).
    public var downscale: Int { 1 << (blockOutChannels.count - 1) }

    enum CodingKeys: String, CodingKey {
        case inChannels, outChannels, latentChannels, blockOutChannels, layersPerBlock, normNumGroups
        case scalingFactor, sampleSize
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = VAEConfig()
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? d.inChannels
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? d.outChannels
        latentChannels = try c.decodeIfPresent(Int.self, forKey: .latentChannels) ?? d.latentChannels
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels) ?? d.blockOutChannels
        layersPerBlock = try c.decodeIfPresent(Int.self, forKey: .layersPerBlock) ?? d.layersPerBlock
        normNumGroups = try c.decodeIfPresent(Int.self, forKey: .normNumGroups) ?? d.normNumGroups
        scalingFactor = try c.decodeIfPresent(Float.self, forKey: .scalingFactor) ?? d.scalingFactor
        sampleSize = try c.decodeIfPresent(IntOrList.self, forKey: .sampleSize)?.values(count: 1).first ?? d.sampleSize
    }
}

extension VAEConfig: ValidatedConfig {
    public func validate(file: String) throws {
        let r = ConfigRules(file: file)
        let channels = 1...ConfigRules.maxChannels
        try r.require(inChannels == 3, "in_channels", inChannels, "must be 3 (PhotoVerse encodes RGB images)")
        try r.require(outChannels == 3, "out_channels", outChannels, "must be 3 (PhotoVerse decodes to RGB images)")
        try r.range("latent_channels", latentChannels, channels)
        try r.list("block_out_channels", blockOutChannels, counts: 1...ConfigRules.maxLevels, channels)
        try r.range("layers_per_block", layersPerBlock, 1...ConfigRules.maxLayers)
        try r.range("norm_num_groups", normNumGroups, channels)
        for (index, width) in blockOutChannels.enumerated() {
            try r.require(width % normNumGroups == 0, "norm_num_groups", normNumGroups,
                          "must divide every block_out_channels entry; block_out_channels[\(index)] = \(width) does not split into \(normNumGroups) groups")
        }
        try r.positive("scaling_factor", Double(scalingFactor))
        try r.range("sample_size", sampleSize, 1...ConfigRules.maxImageSize)
    }
}
