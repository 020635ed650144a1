import Foundation
import Formats

/// transformers' `CLIPVisionConfig` (image_encoder/config.json); the defaults are
/// openai/clip-vit-large-patch14's vision tower, the encoder of the SD1.x family.
/// A full `CLIPConfig` (with a nested `vision_config`) is accepted too.
public struct CLIPVisionConfig: Decodable, Equatable {
    public var hiddenSize = 1024
    public var intermediateSize = 4096
    public var projectionDim = 768
    public var numHiddenLayers = 24
    public var numAttentionHeads = 16
    public var numChannels = 3
    public var imageSize = 224
    public var patchSize = 14
    public var hiddenAct: Activation = .quickGelu
    public var layerNormEps: Float = 1e-5

    public init() {}

    /// ViT-L/14, the SD1.x text encoder's sibling (PhotoVerse, ELITE).
    public static let vitL14 = CLIPVisionConfig()

    public var patchesPerSide: Int { imageSize / patchSize }
    /// CLS token plus one per patch.
    public var sequenceLength: Int { patchesPerSide * patchesPerSide + 1 }

    enum CodingKeys: String, CodingKey {
        case hiddenSize, intermediateSize, projectionDim, numHiddenLayers, numAttentionHeads
        case numChannels, imageSize, patchSize, hiddenAct, layerNormEps, visionConfig
    }

    public init(from decoder: Decoder) throws {
        let outer = try decoder.container(keyedBy: CodingKeys.self)
        let c = outer.contains(.visionConfig)
            ? try outer.nestedContainer(keyedBy: CodingKeys.self, forKey: .visionConfig) : outer
        let d = CLIPVisionConfig()
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? d.intermediateSize
        projectionDim = try c.decodeIfPresent(Int.self, forKey: .projectionDim)
            ?? outer.decodeIfPresent(Int.self, forKey: .projectionDim) ?? d.projectionDim
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? d.numHiddenLayers
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? d.numAttentionHeads
        numChannels = try c.decodeIfPresent(Int.self, forKey: .numChannels) ?? d.numChannels
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? d.imageSize
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? d.patchSize
        hiddenAct = try c.decodeIfPresent(Activation.self, forKey: .hiddenAct) ?? d.hiddenAct
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? d.layerNormEps
    }
}

extension CLIPVisionConfig: ValidatedConfig {
    /// The most patches per side: the attention over (side² + 1) tokens grows with its square.
    public static let maxPatchesPerSide = 64

    public func validate(file: String) throws {
        let r = ConfigRules(file: file)
        try r.range("hidden_size", hiddenSize, 1...ConfigRules.maxChannels)
        try r.range("num_attention_heads", numAttentionHeads, 1...hiddenSize)
        try r.require(hiddenSize % numAttentionHeads == 0, "num_attention_heads", numAttentionHeads,
                      "must divide hidden_size = \(hiddenSize)")
        try r.range("intermediate_size", intermediateSize, 1...(4 * ConfigRules.maxChannels))
        try r.range("projection_dim", projectionDim, 1...ConfigRules.maxChannels)
        try r.range("num_hidden_layers", numHiddenLayers, 1...ConfigRules.maxLayers)
        try r.require(numChannels == 3, "num_channels", numChannels, "must be 3 (the encoder reads RGB images)")
        try r.range("image_size", imageSize, 1...4096)
        try r.range("patch_size", patchSize, 1...imageSize)
        try r.require(imageSize % patchSize == 0, "image_size", imageSize, "is not a multiple of patch_size \(patchSize)")
        try r.require(patchesPerSide <= Self.maxPatchesPerSide, "patch_size", patchSize,
                      "gives \(patchesPerSide) patches per side of image_size \(imageSize); at most \(Self.maxPatchesPerSide) are supported")
        try r.positive("layer_norm_eps", Double(layerNormEps), below: 1)
    }
}
