import Formats

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
    /// The key the head counts came from, for messages.
    public private(set) var attentionHeadsKey = "attention_head_dim"
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
        if let heads = try c.decodeIfPresent(IntOrList.self, forKey: .numAttentionHeads) {
            attentionHeads = heads.values(count: blockOutChannels.count)
            attentionHeadsKey = "num_attention_heads"
        } else if let heads = try c.decodeIfPresent(IntOrList.self, forKey: .attentionHeadDim) {
            attentionHeads = heads.values(count: blockOutChannels.count)
        } else {
            attentionHeads = Array(repeating: 8, count: blockOutChannels.count)   // diffusers' default
        }
    }
}

extension UNetConfig: ValidatedConfig {
    public static let downBlockTypeNames = ["CrossAttnDownBlock2D", "DownBlock2D"]
    public static let upBlockTypeNames = ["CrossAttnUpBlock2D", "UpBlock2D"]

    /// Every value the UNet is built from: sizes in range, one block type and head count per
    /// level, heads and groups dividing the channels they split.
    public func validate(file: String) throws {
        let r = ConfigRules(file: file)
        let channels = 1...ConfigRules.maxChannels
        try r.range("in_channels", inChannels, channels)
        try r.range("out_channels", outChannels, channels)
        try r.range("sample_size", sampleSize, 1...ConfigRules.maxImageSize)
        try r.list("block_out_channels", blockOutChannels, counts: 1...ConfigRules.maxLevels, channels)
        try r.range("layers_per_block", layersPerBlock, 1...ConfigRules.maxLayers)
        try r.range("transformer_layers_per_block", transformerLayersPerBlock, 1...ConfigRules.maxLayers)
        try r.range("cross_attention_dim", crossAttentionDim, channels)
        let levels = blockOutChannels.count
        for (key, types, allowed) in [("down_block_types", downBlockTypes, Self.downBlockTypeNames),
                                      ("up_block_types", upBlockTypes, Self.upBlockTypeNames)] {
            try r.require(types.count == levels, key, types, "needs one entry per block_out_channels (\(levels))")
            for (index, type) in types.enumerated() {
                try r.require(allowed.contains(type), "\(key)[\(index)]", type, "must be \(allowed.joined(separator: " or "))")
            }
        }
        try r.require(attentionHeads.count == levels, attentionHeadsKey, attentionHeads,
                      "needs one head count per block_out_channels (\(levels)) or a single number")
        // Levels with attention: cross-attention down blocks, the up blocks (in reverse), the mid block.
        var attended = Set(downBlockTypes.indices.filter { downBlockTypes[$0].hasPrefix("CrossAttn") })
        attended.formUnion(upBlockTypes.indices.filter { upBlockTypes[$0].hasPrefix("CrossAttn") }.map { levels - 1 - $0 })
        attended.insert(levels - 1)
        for (index, heads) in attentionHeads.enumerated() {
            let key = "\(attentionHeadsKey)[\(index)]"
            try r.range(key, heads, 1...ConfigRules.maxChannels, "attention heads")
            if attended.contains(index) {
                try r.require(blockOutChannels[index] % heads == 0, key, heads,
                              "must divide block_out_channels[\(index)] = \(blockOutChannels[index]) (heads split the channels)")
            }
        }
        try r.range("norm_num_groups", normNumGroups, channels)
        for (index, width) in blockOutChannels.enumerated() {
            try r.require(width % normNumGroups == 0, "norm_num_groups", normNumGroups,
                          "must divide every block_out_channels entry; block_out_channels[\(index)] = \(width) does not split into \(normNumGroups) groups")
        }
        try r.positive("norm_eps", Double(normEps), below: 1)
        try r.range("freq_shift", freqShift, 0...max(0, blockOutChannels[0] / 2 - 1),
                    "below half of block_out_channels[0]")
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
