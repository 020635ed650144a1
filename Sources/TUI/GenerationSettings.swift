import Formats
import Foundation
import Pipeline
import Sampling

/// Everything the user sets for a run: prompts, knobs, seed, size, reference. Saved in the
/// config file and reloadable from a result's PNG (through GenerationRecord).
public struct GenerationSettings: Codable, Equatable, Sendable {
    public var prompt = "a photo of S* as an astronaut on the moon"
    public var negativePrompt = "blurry, low quality"
    /// s_T: classifier-free guidance on the prompt.
    public var guidance: Float = 7.5
    /// s_I: guidance on the identity; nil = the same as the prompt's (ordinary guidance).
    public var identityGuidance: Float?
    public var textWeight: Float = 1      // γ
    public var imageWeight: Float = 1     // σ
    public var loraScale: Float = 1       // α
    public var pseudoWords = 1            // m
    public var steps = 25
    public var sampler = SamplerKind.ddim.rawValue
    public var seed: UInt64 = 42
    /// Locked: every run uses `seed` (a batch counts up from it); unlocked: each run draws a new one.
    public var seedLocked = false
    /// How many runs `g` queues at once (with consecutive seeds).
    public var batch = 1
    public var width = 512
    public var height = 512
    public var imageStart = 0.0
    public var imageEnd = 1.0
    /// Start from the noised reference (the paper's image-to-image trick); nil = from pure noise.
    public var strength: Double?
    public var referencePath: String?
    /// Face crop: auto (detect), none (whole photo), or x,y,w,h.
    public var crop = "auto"

    public init() {}

    public var samplerKind: SamplerKind { SamplerKind(rawValue: sampler) ?? .ddim }

    // Missing keys (an older config) keep their defaults instead of failing the whole file.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) -> T { (try? c.decodeIfPresent(T.self, forKey: key)) ?? fallback }
        let d = GenerationSettings.init()
        prompt = value(.prompt, d.prompt)
        negativePrompt = value(.negativePrompt, d.negativePrompt)
        guidance = value(.guidance, d.guidance)
        identityGuidance = try? c.decodeIfPresent(Float.self, forKey: .identityGuidance)
        textWeight = value(.textWeight, d.textWeight)
        imageWeight = value(.imageWeight, d.imageWeight)
        loraScale = value(.loraScale, d.loraScale)
        pseudoWords = value(.pseudoWords, d.pseudoWords)
        steps = value(.steps, d.steps)
        sampler = value(.sampler, d.sampler)
        seed = value(.seed, d.seed)
        seedLocked = value(.seedLocked, d.seedLocked)
        batch = value(.batch, d.batch)
        width = value(.width, d.width)
        height = value(.height, d.height)
        imageStart = value(.imageStart, d.imageStart)
        imageEnd = value(.imageEnd, d.imageEnd)
        strength = try? c.decodeIfPresent(Double.self, forKey: .strength)
        referencePath = try? c.decodeIfPresent(String.self, forKey: .referencePath)
        crop = value(.crop, d.crop)
    }

    /// The knobs of a finished run, read back from its PNG.
    public mutating func apply(_ record: GenerationRecord) {
        prompt = record.prompt
        negativePrompt = record.negativePrompt
        steps = record.steps
        guidance = record.guidance
        sampler = record.sampler
        seed = record.seed
        seedLocked = true   // reloading a run means wanting that exact run again
        width = record.width
        height = record.height
        strength = record.strength
        if let reference = record.references?.first {
            referencePath = reference
            crop = record.crop ?? crop
            textWeight = record.textWeight ?? textWeight
            imageWeight = record.imageWeight ?? imageWeight
            loraScale = record.loraScale ?? loraScale
            pseudoWords = record.pseudoWords ?? pseudoWords
            imageStart = record.imageStart ?? imageStart
            imageEnd = record.imageEnd ?? imageEnd
            identityGuidance = record.identityGuidance
        }
    }

    /// What goes into the result's PNG: everything needed to run it again.
    public func record(seed: UInt64, model: String, personalized: Bool, usedStrength: Bool) -> GenerationRecord {
        var record = GenerationRecord(prompt: prompt)
        record.negativePrompt = negativePrompt
        record.steps = steps
        record.guidance = guidance
        record.sampler = samplerKind.rawValue
        record.seed = seed
        record.width = width
        record.height = height
        record.strength = usedStrength ? strength : nil
        record.model = model
        if personalized, let referencePath {
            record.references = [referencePath]
            record.crop = crop
            record.textWeight = textWeight
            record.imageWeight = imageWeight
            record.loraScale = loraScale
            record.pseudoWords = pseudoWords
            record.imageStart = imageStart
            record.imageEnd = imageEnd
            record.identityGuidance = identityGuidance
        }
        return record
    }

    /// The personalization part of a request for a prepared reference face.
    public func personalization(reference: Formats.RGBImage) -> Personalization {
        var p = Personalization(references: [reference])
        p.textWeight = textWeight
        p.imageWeight = imageWeight
        p.loraScale = loraScale
        p.pseudoWords = pseudoWords
        p.imageStart = imageStart
        p.imageEnd = imageEnd
        p.identityGuidance = identityGuidance
        return p
    }

    /// The request without personalization or init image (the engine adds those).
    public func request(seed: UInt64) -> GenerationRequest {
        var request = GenerationRequest(prompt: prompt)
        request.negativePrompt = negativePrompt
        request.steps = steps
        request.guidance = guidance
        request.sampler = samplerKind
        request.seed = seed
        request.width = width
        request.height = height
        return request
    }
}
