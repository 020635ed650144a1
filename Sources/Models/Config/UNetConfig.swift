/// diffusers' `UNet2DConditionModel` config (unet/config.json); SD1.5 values as defaults.
public struct UNetConfig: Decodable, Equatable {
    public var inChannels = 4
    public var outChannels = 4
    public var sampleSize = 64
    public var blockOutChannels = [320, 640, 1280, 1280]
    public var layersPerBlock = 2
    public var downBlockTypes = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
    public var upBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
    public var crossAttentionDim = 768
    /// Heads per block. diffusers calls this `attention_head_dim` in SD1.x configs
    /// although it is the head count; `num_attention_heads` wins when present.
    public var attentionHeads = [8, 8, 8, 8]
    public var normNumGroups = 32
    public var normEps: Float = 1e-5
    public var flipSinToCos = true
    public var freqShift = 0
    public var useLinearProjection = false
    public var transformerLayersPerBlock = 1

    public init() {}

    public static let sd15 = UNetConfig()

    /// Latent downscale between the VAE latents and the UNet's lowest resolution.
    public var downsamplings: Int { blockOutChannels.count - 1 }

    enum CodingKeys: String, CodingKey {
        case inChannels, outChannels, sampleSize, blockOutChannels, layersPerBlock, downBlockTypes, upBlockTypes
        case crossAttentionDim, attentionHeadDim, numAttentionHeads, normNumGroups, normEps, flipSinToCos
        case freqShift, useLinearProjection, transformerLayersPerBlock
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = UNetConfig()
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? d.inChannels
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? d.outChannels
        sampleSize = try c.decodeIfPresent(Int.self, forKey: .sampleSize) ?? d.sampleSize
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels) ?? d.blockOutChannels
        layersPerBlock = try c.decodeIfPresent(Int.self, forKey: .layersPerBlock) ?? d.layersPerBlock
        downBlockTypes = try c.decodeIfPresent([String].self, forKey: .downBlockTypes) ?? d.downBlockTypes
        upBlockTypes = try c.decodeIfPresent([String].self, forKey: .upBlockTypes) ?? d.upBlockTypes
        crossAttentionDim = try c.decodeIfPresent(Int.self, forKey: .crossAttentionDim) ?? d.crossAttentionDim
        normNumGroups = try c.decodeIfPresent(Int.self, forKey: .normNumGroups) ?? d.normNumGroups
        normEps = try c.decodeIfPresent(Float.self, forKey: .normEps) ?? d.normEps
        flipSinToCos = try c.decodeIfPresent(Bool.self, forKey: .flipSinToCos) ?? d.flipSinToCos
        freqShift = try c.decodeIfPresent(Int.self, forKey: .freqShift) ?? d.freqShift
        useLinearProjection = try c.decodeIfPresent(Bool.self, forKey: .useLinearProjection) ?? d.useLinearProjection
        transformerLayersPerBlock = try c.decodeIfPresent(Int.self, forKey: .transformerLayersPerBlock) ?? 1
        let heads = try c.decodeIfPresent(IntOrList.self, forKey: .numAttentionHeads)
            ?? c.decodeIfPresent(IntOrList.self, forKey: .attentionHeadDim)
        attentionHeads = heads?.values(count: blockOutChannels.count) ?? d.attentionHeads
        guard downBlockTypes.count == blockOutChannels.count, upBlockTypes.count == blockOutChannels.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.downBlockTypes],
                debugDescription: "down_block_types and up_block_types need one entry per block_out_channels (\(blockOutChannels.count))"))
        }
    }
}

/// A config field that is either one integer or one per block.
struct IntOrList: Decodable {
    let single: Int?
    let list: [Int]?
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Int.self) { single = v; list = nil } else { single = nil; list = try c.decode([Int].self) }
    }
    func values(count: Int) -> [Int] { list ?? Array(repeating: single ?? 1, count: count) }
}
