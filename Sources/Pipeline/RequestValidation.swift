import Foundation
import Formats

/// A request value that cannot run; one line naming the setting, its value and what is allowed.
public struct InvalidRequest: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The bounds a request is checked against before any work (the CLI checks before loading the
/// model; the pipeline again before running, with the model's own limits).
public enum RequestLimits {
    /// Per side. 2048² is 4x SD1.5's native area; a 65536-wide run would take hours a step.
    public static let largestSide = 2048
    public static let steps = 1...1000
    public static let guidance: ClosedRange<Float> = 0...100
    /// γ, σ, α: far beyond any useful value, but finite and bounded.
    public static let weight: ClosedRange<Float> = -100...100
    public static let pseudoWords = 1...64
    /// A LoRA file's scale: people use about -2...2 (negative to push a concept away).
    public static let loraFileScale: ClosedRange<Float> = -10...10
}

extension GenerationRequest {
    /// Checks every value that does not depend on the model: finite numbers, bounded sizes and
    /// steps, fractions within 0...1. Names each setting by its CLI flag.
    public func validate() throws {
        guard RequestLimits.steps.contains(steps) else {
            throw InvalidRequest("--steps \(steps) is outside \(RequestLimits.steps.lowerBound)...\(RequestLimits.steps.upperBound)")
        }
        try Self.check("--guidance", guidance, within: RequestLimits.guidance)
        for (flag, side) in [("--width", width), ("--height", height)] {
            guard (1...RequestLimits.largestSide).contains(side) else {
                throw InvalidRequest("\(flag) \(side) is outside 1...\(RequestLimits.largestSide) pixels (a larger image would take hours a step and tens of GiB)")
            }
        }
        if let strength {
            guard strength.isFinite, strength > 0, strength <= 1 else {
                throw InvalidRequest("--strength \(strength) is outside (0, 1] (the fraction of the schedule to run)")
            }
        }
        if let noiseFile, noiseFile.isEmpty { throw InvalidRequest("--noise: empty file name") }
        if let initImage, initImage.isEmpty { throw InvalidRequest("--init-image: empty file name") }
        try identity.validate()
        try validateLoRAs()
        if strength != nil, initImage == nil, identity.references.isEmpty {
            throw InvalidRequest("--strength needs --init-image, or a --reference to start from")
        }
    }

    /// Each LoRA: a file named once, a finite scale within `loraFileScale`.
    func validateLoRAs() throws {
        var seen: Set<String> = []
        for lora in loras {
            guard !lora.path.isEmpty else { throw InvalidRequest("--lora: empty file name") }
            try Self.check("--lora \(lora.path.terminalSafe): scale", lora.scale, within: RequestLimits.loraFileScale)
            guard seen.insert(lora.path).inserted else {
                throw InvalidRequest("--lora \(lora.path.terminalSafe) is given twice (one entry per file, with its scale)")
            }
        }
    }

    /// The files the request names that must be there before any work starts: each LoRA a
    /// regular file. Apart from `validate()` so that a result whose LoRA file has since gone
    /// still loads (to be edited); running it is refused here.
    public func validateFiles() throws {
        for lora in loras {
            do {
                try RegularFile.check(URL(fileURLWithPath: lora.path))
            } catch let error as FormatError {
                throw InvalidRequest("--lora \(error.description)")
            }
        }
    }

    static func check(_ flag: String, _ value: Float, within range: ClosedRange<Float>) throws {
        guard value.isFinite else { throw InvalidRequest("\(flag) \(value) is not a finite number") }
        guard range.contains(value) else {
            throw InvalidRequest("\(flag) \(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
    }

    /// The model's own limits: sizes in whole latent pixels, steps within its training schedule.
    func validate(downscale factor: Int, trainTimesteps: Int) throws {
        for (flag, side) in [("--width", width), ("--height", height)] where side % factor != 0 {
            throw InvalidRequest("\(flag) \(side) is not a multiple of \(factor) (the VAE works in \(factor)x\(factor) pixel blocks)")
        }
        guard steps <= trainTimesteps else {
            throw InvalidRequest("--steps \(steps) is more than the model's \(trainTimesteps) training timesteps")
        }
    }
}

extension IdentitySettings {
    func validate() throws {
        try GenerationRequest.check("--text-weight", textWeight, within: RequestLimits.weight)
        try GenerationRequest.check("--image-weight", imageWeight, within: RequestLimits.weight)
        try GenerationRequest.check("--lora-scale", loraScale, within: RequestLimits.weight)
        if let identityGuidance { try GenerationRequest.check("--identity-guidance", identityGuidance, within: RequestLimits.guidance) }
        if let pseudoWords, !RequestLimits.pseudoWords.contains(pseudoWords) {
            throw InvalidRequest("--tokens \(pseudoWords) is outside 1...\(RequestLimits.pseudoWords.upperBound)")
        }
        for (flag, value) in [("--image-start", imageStart), ("--image-end", imageEnd)] {
            guard value.isFinite, (0...1).contains(value) else {
                throw InvalidRequest("\(flag) \(value) is outside 0...1 (a fraction of the steps)")
            }
        }
        guard imageStart <= imageEnd else {
            throw InvalidRequest("--image-start \(imageStart) is after --image-end \(imageEnd)")
        }
        if let shortcutScale { try GenerationRequest.check("--shortcut-scale", shortcutScale, within: RequestLimits.weight) }
        if let faceEmbedding, faceEmbedding.isEmpty { throw InvalidRequest("--face-embedding: empty file name") }
        for reference in references where reference.path.isEmpty {
            throw InvalidRequest("--reference: empty file name")
        }
    }
}
