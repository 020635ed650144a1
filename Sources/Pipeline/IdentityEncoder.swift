import Foundation
import Formats
import Models
import TensorCore

/// Turns reference faces into PhotoVerse's two conditionings: pseudo-words for the text
/// encoder and image tokens for the cross-attention layers (or IP-Adapter's tokens).
/// Encodings are cached by the references' pixels, so a new prompt or seed with the same
/// face never runs the vision encoder again.
public final class IdentityEncoder {
    /// The CLIP image encoder; nil for IP-Adapter FaceID, which reads only an ArcFace embedding.
    public let vision: CLIPVisionModel?
    public let adapter: PhotoVerseAdapter
    /// CLIP's normalisation, from the adapter's metadata (openai CLIP's values by default).
    public var imageMean: [Float] { adapter.metadata.imageMean }
    public var imageStd: [Float] { adapter.metadata.imageStd }
    private var cache: [Int: Encoded] = [:]
    /// How many times the vision encoder actually ran (tests check the cache with it).
    public private(set) var encoderRuns = 0

    public struct Encoded {
        /// Per adapter layer, the references' hidden states averaged: [1, 1 + patches, width].
        public let features: [Tensor]
        /// S_1..S_m [1, layers, text width], nil without a text branch.
        public let pseudoWords: Tensor?
        /// f [1, tokens, cross width], nil without an image branch.
        public let imageTokens: Tensor?
        /// The unconditional image input for ε(∅), for each choice: zero tokens (the image
        /// attention then adds exactly 0) and the image adapter of zero features. IP-Adapter has
        /// only its projection of zero inputs, as diffusers does.
        public let unconditionalImageTokens: [AdapterMetadata.UnconditionalImage: Tensor]
    }

    public init(vision: CLIPVisionModel?, adapter: PhotoVerseAdapter) throws {
        if adapter.layout == .photoverse || adapter.ipAdapter?.variant.needsImageEncoder == true, vision == nil {
            throw ModelError.invalidInput("\(adapter.origin): needs a CLIP image encoder")
        }
        if adapter.layout == .photoverse, let vision, let widest = adapter.metadata.encoderLayers.max(),
           widest > vision.config.numHiddenLayers {
            throw ModelError.invalidInput("\(adapter.origin): adapter reads encoder layer \(widest) but the image encoder has \(vision.config.numHiddenLayers)")
        }
        for branch in [adapter.textAdapter, adapter.imageAdapter].compactMap({ $0 }) where branch.inFeatures != vision?.config.hiddenSize {
            throw ModelError.invalidInput("\(adapter.origin): adapter expects \(branch.inFeatures)-wide features but the image encoder gives \(vision?.config.hiddenSize ?? 0)")
        }
        if let width = adapter.ipAdapter?.imageEmbedWidth, vision?.projection == nil || width != vision?.config.projectionDim {
            throw ModelError.invalidInput("\(adapter.origin): IP-Adapter expects \(width)-wide image embeds; the image encoder (projection_dim \(vision?.config.projectionDim ?? 0)) must be loaded with its visual projection")
        }
        if let ip = adapter.ipAdapter, let width = ip.featureWidth, let vision, width != vision.config.hiddenSize {
            throw ModelError.invalidInput("\(adapter.origin): \(ip.variant.title) reads \(width)-wide hidden states but the image encoder is \(vision.config.hiddenSize) wide")
        }
        self.vision = vision
        self.adapter = adapter
    }

    /// What the adapter reads besides reference photos.
    public var needsReferences: Bool { vision != nil }
    public var faceEmbeddingWidth: Int? { adapter.ipAdapter?.faceEmbeddingWidth }

    /// The image encoder's input size (0 without one).
    public var inputSize: Int { vision?.config.imageSize ?? 0 }

    /// A prepared reference as the encoder's input [1, 3, S, S], CLIP-normalised.
    public func pixels(_ image: RGBImage) throws -> Tensor {
        guard image.width == inputSize, image.height == inputSize else {
            throw ModelError.invalidInput("reference is \(image.width)x\(image.height); the image encoder takes \(inputSize)x\(inputSize) (prepare it first)")
        }
        let t = image.tensor(range: .zeroToOne)
        let plane = inputSize * inputSize
        for c in 0..<3 {
            let p = t.data + c * plane, mean = imageMean[c], inv = 1 / imageStd[c]
            for i in 0..<plane { p[i] = (p[i] - mean) * inv }
        }
        return t
    }

    /// Encodes the references (their encoder outputs averaged) and, for FaceID, the face
    /// embedding [1, D]; `shortcutScale` is FaceID-Plus-v2's (nil: no shortcut).
    public func encode(_ references: [RGBImage], faceEmbedding: Tensor? = nil, shortcutScale: Float? = nil) throws -> Encoded {
        guard !references.isEmpty || !needsReferences else { throw ModelError.invalidInput("no reference image given") }
        if let width = faceEmbeddingWidth {
            guard let faceEmbedding else {
                throw ModelError.invalidInput("\(adapter.origin): \(adapter.ipAdapter!.variant.title) needs a face embedding (--face-embedding FILE)")
            }
            guard faceEmbedding.shape == [1, width] else {
                throw ModelError.invalidInput("face embedding has shape \(faceEmbedding.shape); \(adapter.origin) takes [1, \(width)]")
            }
        }
        var hasher = Hasher()
        for image in references {
            hasher.combine(image.width)
            hasher.combine(image.height)
            hasher.combine(image.pixels)
        }
        if faceEmbeddingWidth != nil, let faceEmbedding { hasher.combine(faceEmbedding.scalars) }
        hasher.combine(shortcutScale)
        let key = hasher.finalize()
        if let cached = cache[key] { return cached }
        let batch = references.isEmpty ? nil : Tensor.concat(try references.map(pixels), axis: 0)
        if batch != nil { encoderRuns += 1 }
        let encoded: Encoded
        if let projection = adapter.ipAdapter {
            encoded = encodeIPAdapter(projection, batch: batch, faceEmbedding: faceEmbedding, shortcutScale: shortcutScale)
        } else if let batch, let vision {
            let features = vision.hiddenStates(batch, layers: adapter.metadata.encoderLayers)
                .map { $0.mean(axis: 0, keepDims: true) }
            let tokens = adapter.imageAdapter.map { $0(features) }
            var unconditional: [AdapterMetadata.UnconditionalImage: Tensor] = [:]
            if let tokens, let imageAdapter = adapter.imageAdapter {
                unconditional[.zeroTokens] = Tensor(shape: tokens.shape)
                unconditional[.zeroFeatures] = imageAdapter(features.map { Tensor(shape: $0.shape) })
            }
            encoded = Encoded(features: features, pseudoWords: adapter.textAdapter.map { $0(features) },
                              imageTokens: tokens, unconditionalImageTokens: unconditional)
        } else {
            throw ModelError.invalidInput("no reference image given")
        }
        cache[key] = encoded
        return encoded
    }

    /// IP-Adapter: the variant's inputs for the references and, as diffusers' pipeline makes
    /// them, for ε(∅): zero image embeds (plain), the encoder's hidden_states[-2] of a zero
    /// pixel tensor (Plus, Full-Face, FaceID-Plus), a zero face embedding (FaceID).
    private func encodeIPAdapter(_ projection: IPAdapterProjection, batch: Tensor?, faceEmbedding: Tensor?,
                                 shortcutScale: Float?) -> Encoded {
        let variant = projection.variant
        var input = IPAdapterProjection.Input(shortcutScale: shortcutScale)
        var unconditional = IPAdapterProjection.Input(shortcutScale: shortcutScale)
        if variant.needsFaceEmbedding, let faceEmbedding {
            input.faceEmbedding = faceEmbedding
            unconditional.faceEmbedding = Tensor(shape: faceEmbedding.shape)
        }
        if let batch, let vision {
            if variant.readsPenultimateStates {
                input.penultimateStates = vision.penultimateHiddenStates(batch).mean(axis: 0, keepDims: true)
                let zero = Tensor(shape: [1] + Array(batch.shape.dropFirst()))
                unconditional.penultimateStates = vision.penultimateHiddenStates(zero)
            } else if variant.needsVisualProjection {
                input.imageEmbeds = vision.imageEmbeddings(batch).mean(axis: 0, keepDims: true)
                unconditional.imageEmbeds = Tensor(shape: input.imageEmbeds!.shape)
            }
        }
        let zero = projection(unconditional)
        return Encoded(features: [], pseudoWords: nil, imageTokens: projection(input),
                       unconditionalImageTokens: [.zeroTokens: zero, .zeroFeatures: zero])
    }
}
