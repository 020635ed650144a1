import Foundation
import Formats

/// diffusers' `AutoencoderTiny` config (TAESD's config.json); the defaults are madebyollin/taesd's,
/// the tiny autoencoder distilled for SD1.x latents.
public struct TinyAutoencoderConfig: Decodable, Equatable {
    public var className: String?
    public var inChannels = 3
    public var outChannels = 3
    public var encoderBlockOutChannels = [64, 64, 64, 64]
    public var decoderBlockOutChannels = [64, 64, 64, 64]
    public var actFn = "relu"
    public var upsampleFn = "nearest"
    public var latentChannels = 4
    public var upsamplingScalingFactor = 2
    public var numEncoderBlocks = [1, 3, 3, 3]
    public var numDecoderBlocks = [3, 3, 3, 1]
    /// Used by diffusers only to quantise latents to bytes (`scale_latents`); checked, not needed to decode.
    public var latentMagnitude: Double = 3
    public var latentShift: Double = 0.5
    /// 1 for TAESD: it was distilled on the UNet's latents as they are (SD's are already x 0.18215),
    /// so decoding divides by 1 where AutoencoderKL divides by its 0.18215.
    public var scalingFactor: Float = 1

    public init() {}

    /// madebyollin/taesd: SD1.x and SD2.x latents.
    public static let taesd = TinyAutoencoderConfig()

    /// The activations diffusers' `get_activation` offers that the engine has.
    public var activation: Activation? {
        switch actFn {
        case "relu": return .relu
        case "silu": return .silu
        case "swish": return .swish
        case "gelu": return .gelu
        default: return nil
        }
    }

    /// Pixels per latent along each side of a decode (8 for TAESD); Int.max when it overflows
    /// (only an unvalidated config can: validation bounds the factor and the levels).
    public var upscale: Int {
        (0..<max(decoderBlockOutChannels.count - 1, 0)).reduce(1) { product, _ in
            let (next, overflow) = product.multipliedReportingOverflow(by: upsamplingScalingFactor)
            return overflow ? Int.max : next
        }
    }

    /// Pixels per latent of an encode: every level after the first halves the size.
    public var downscale: Int { 1 << max(encoderBlockOutChannels.count - 1, 0) }

    enum CodingKeys: String, CodingKey {
        // Keys as JSONDecoder's convertFromSnakeCase gives them ("_class_name" keeps its underscore).
        case className = "_className"
        case inChannels, outChannels, encoderBlockOutChannels, decoderBlockOutChannels, actFn, upsampleFn
        case latentChannels, upsamplingScalingFactor, numEncoderBlocks, numDecoderBlocks, latentMagnitude
        case latentShift, scalingFactor
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TinyAutoencoderConfig()
        className = try c.decodeIfPresent(String.self, forKey: .className)
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? d.inChannels
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? d.outChannels
        encoderBlockOutChannels = try c.decodeIfPresent([Int].self, forKey: .encoderBlockOutChannels) ?? d.encoderBlockOutChannels
        decoderBlockOutChannels = try c.decodeIfPresent([Int].self, forKey: .decoderBlockOutChannels) ?? d.decoderBlockOutChannels
        actFn = try c.decodeIfPresent(String.self, forKey: .actFn) ?? d.actFn
        upsampleFn = try c.decodeIfPresent(String.self, forKey: .upsampleFn) ?? d.upsampleFn
        latentChannels = try c.decodeIfPresent(Int.self, forKey: .latentChannels) ?? d.latentChannels
        upsamplingScalingFactor = try c.decodeIfPresent(Int.self, forKey: .upsamplingScalingFactor) ?? d.upsamplingScalingFactor
        numEncoderBlocks = try c.decodeIfPresent([Int].self, forKey: .numEncoderBlocks) ?? d.numEncoderBlocks
        numDecoderBlocks = try c.decodeIfPresent([Int].self, forKey: .numDecoderBlocks) ?? d.numDecoderBlocks
        latentMagnitude = try c.decodeIfPresent(Double.self, forKey: .latentMagnitude) ?? d.latentMagnitude
        latentShift = try c.decodeIfPresent(Double.self, forKey: .latentShift) ?? d.latentShift
        scalingFactor = try c.decodeIfPresent(Float.self, forKey: .scalingFactor) ?? d.scalingFactor
    }
}

extension TinyAutoencoderConfig: ValidatedConfig {
    /// The largest upsampling factor per level (TAESD uses 2).
    static let maxUpsampling = 16

    public func validate(file: String) throws {
        let r = ConfigRules(file: file)
        let channels = 1...ConfigRules.maxChannels
        if let className {
            try r.require(className == "AutoencoderTiny", "_class_name", className,
                          "must be AutoencoderTiny (a TAESD folder: config.json + diffusion_pytorch_model.safetensors)")
        }
        try r.require(inChannels == 3, "in_channels", inChannels, "must be 3 (PhotoVerse encodes RGB images)")
        try r.require(outChannels == 3, "out_channels", outChannels, "must be 3 (PhotoVerse decodes to RGB images)")
        try r.range("latent_channels", latentChannels, channels)
        for (key, widths, blocks, blocksKey) in [
            ("encoder_block_out_channels", encoderBlockOutChannels, numEncoderBlocks, "num_encoder_blocks"),
            ("decoder_block_out_channels", decoderBlockOutChannels, numDecoderBlocks, "num_decoder_blocks"),
        ] {
            try r.list(key, widths, counts: 1...ConfigRules.maxLevels, channels)
            // diffusers chains the levels with no projection between them: other widths cannot run.
            try r.require(Set(widths).count == 1, key, widths,
                          "every level must have the same width (AutoencoderTiny has no projection between levels)")
            try r.list(blocksKey, blocks, counts: widths.count...widths.count, 0...ConfigRules.maxLayers,
                       "one block count per \(key) entry")
        }
        try r.require(activation != nil, "act_fn", actFn, "must be relu, silu, swish or gelu")
        try r.require(upsampleFn == "nearest", "upsample_fn", upsampleFn, "must be nearest (the only upsampling PhotoVerse runs)")
        try r.range("upsampling_scaling_factor", upsamplingScalingFactor, 1...Self.maxUpsampling)
        try r.positive("latent_magnitude", latentMagnitude)
        try r.finite("latent_shift", latentShift)
        try r.positive("scaling_factor", Double(scalingFactor))
    }
}
