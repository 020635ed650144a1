import Foundation

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
        guard patchSize > 0, imageSize % patchSize == 0 else {
            throw DecodingError.dataCorruptedError(forKey: .patchSize, in: c,
                debugDescription: "image_size \(imageSize) is not a multiple of patch_size \(patchSize)")
        }
    }
}
