import Foundation
import Formats
import Models
import TensorCore

/// Turns reference faces into PhotoVerse's two conditionings: pseudo-words for the text
/// encoder and image tokens for the cross-attention layers (or IP-Adapter's tokens).
/// Encodings are cached by the references' pixels, so a new prompt or seed with the same
/// face never runs the vision encoder again.
public final class IdentityEncoder {
    public let vision: CLIPVisionModel
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
        /// only its projection of a zero embedding, as diffusers does.
        public let unconditionalImageTokens: [AdapterMetadata.UnconditionalImage: Tensor]
    }

    public init(vision: CLIPVisionModel, adapter: PhotoVerseAdapter) throws {
        if adapter.layout == .photoverse, let widest = adapter.metadata.encoderLayers.max(),
           widest > vision.config.numHiddenLayers {
            throw ModelError.invalidInput("\(adapter.origin): adapter reads encoder layer \(widest) but the image encoder has \(vision.config.numHiddenLayers)")
        }
        for branch in [adapter.textAdapter, adapter.imageAdapter].compactMap({ $0 }) where branch.inFeatures != vision.config.hiddenSize {
            throw ModelError.invalidInput("\(adapter.origin): adapter expects \(branch.inFeatures)-wide features but the image encoder gives \(vision.config.hiddenSize)")
        }
        if let projection = adapter.imageProjection, vision.projection == nil || projection.imageEmbedDim != vision.config.projectionDim {
            throw ModelError.invalidInput("\(adapter.origin): IP-Adapter expects \(projection.imageEmbedDim)-wide image embeds; the image encoder (projection_dim \(vision.config.projectionDim)) must be loaded with its visual projection")
        }
        self.vision = vision
        self.adapter = adapter
    }

    public var inputSize: Int { vision.config.imageSize }

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

    public func encode(_ references: [RGBImage]) throws -> Encoded {
        guard !references.isEmpty else { throw ModelError.invalidInput("no reference image given") }
        var hasher = Hasher()
        for image in references {
            hasher.combine(image.width)
            hasher.combine(image.height)
            hasher.combine(image.pixels)
        }
        let key = hasher.finalize()
        if let cached = cache[key] { return cached }
        let batch = Tensor.concat(try references.map(pixels), axis: 0)
        encoderRuns += 1
        let encoded: Encoded
        if let projection = adapter.imageProjection {
            let embeds = vision.imageEmbeddings(batch).mean(axis: 0, keepDims: true)
            let zero = projection(Tensor(shape: embeds.shape))
            encoded = Encoded(features: [], pseudoWords: nil, imageTokens: projection(embeds),
                              unconditionalImageTokens: [.zeroTokens: zero, .zeroFeatures: zero])
        } else {
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
        }
        cache[key] = encoded
        return encoded
    }
}
