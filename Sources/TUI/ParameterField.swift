import Foundation
import Pipeline
import Sampling

/// One row of the parameter panel: how it is labelled, shown, stepped with ←/→ and typed in.
public enum ParameterField: Int, CaseIterable, Sendable {
    case guidance, identityGuidance, textWeight, imageWeight, loraScale, pseudoWords
    case steps, sampler, seed, batch, width, height, imageStart, imageEnd, strength

    public var label: String {
        switch self {
        case .guidance: return "Prompt guidance"
        case .identityGuidance: return "Identity guidance"
        case .textWeight: return "Text γ"
        case .imageWeight: return "Image σ"
        case .loraScale: return "LoRA α"
        case .pseudoWords: return "Pseudo-words m"
        case .steps: return "Steps"
        case .sampler: return "Sampler"
        case .seed: return "Seed"
        case .batch: return "Batch"
        case .width: return "Width"
        case .height: return "Height"
        case .imageStart: return "Image from"
        case .imageEnd: return "Image until"
        case .strength: return "Strength"
        }
    }

    /// Knobs that only mean something with a PhotoVerse adapter (shown disabled without one).
    public var needsIdentity: Bool {
        switch self {
        case .identityGuidance, .textWeight, .imageWeight, .loraScale, .pseudoWords, .imageStart, .imageEnd, .strength:
            return true
        default:
            return false
        }
    }

    /// A one-line explanation for the status line while the row is selected.
    public var hint: String {
        switch self {
        case .guidance: return "s_T: how strongly the prompt steers (1 = no guidance)"
        case .identityGuidance: return "s_I: how strongly the face steers (same = the prompt's: ordinary guidance)"
        case .textWeight: return "γ: weight of the text attention (more = follows the prompt)"
        case .imageWeight: return "σ: weight of the image attention (more = more like the face, 0 = off)"
        case .loraScale: return "α: LoRA scale on the text keys/values (0 = base model)"
        case .pseudoWords: return "m: pseudo-words that replace S* (the paper uses 1)"
        case .steps: return "denoising steps"
        case .sampler: return "the scheduler"
        case .seed: return "Space locks/unlocks, n draws a new seed; unlocked runs draw their own"
        case .batch: return "runs queued by one press of g (seeds count up from a locked seed, else each is random)"
        case .width, .height: return "output size in pixels (multiples of 64)"
        case .imageStart, .imageEnd: return "fraction of the steps where the image branch is active"
        case .strength: return "start from the noised reference (off = from noise; needs a square size)"
        }
    }

    public func value(in s: GenerationSettings) -> String {
        switch self {
        case .guidance: return Self.format(s.request.guidance)
        case .identityGuidance: return s.request.identity.identityGuidance.map(Self.format) ?? "same (\(Self.format(s.request.guidance)))"
        case .textWeight: return Self.format(s.request.identity.textWeight)
        case .imageWeight: return Self.format(s.request.identity.imageWeight)
        case .loraScale: return Self.format(s.request.identity.loraScale)
        case .pseudoWords: return "\(s.request.identity.pseudoWords ?? 1)"
        case .steps: return "\(s.request.steps)"
        case .sampler: return Self.samplerName(s.request.sampler)
        case .seed: return s.seedLocked ? "\(s.request.seed) (locked)" : "random (last \(s.request.seed))"
        case .batch: return "\(s.batch)"
        case .width: return "\(s.request.width)"
        case .height: return "\(s.request.height)"
        case .imageStart: return Self.format(s.request.identity.imageStart)
        case .imageEnd: return Self.format(s.request.identity.imageEnd)
        case .strength: return s.request.strength.map { Self.format($0) } ?? "off"
        }
    }

    /// The value as typed into the entry line (no decoration).
    public func editableValue(in s: GenerationSettings) -> String {
        switch self {
        case .seed: return "\(s.request.seed)"
        case .sampler: return s.request.sampler.rawValue
        case .identityGuidance: return s.request.identity.identityGuidance.map(Self.format) ?? "same"
        default: return value(in: s)
        }
    }

    static func format(_ value: Float) -> String { format(Double(value)) }

    static func format(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(format: "%.1f", rounded) : String(format: "%g", rounded)
    }

    static func samplerName(_ kind: SamplerKind) -> String {
        switch kind {
        case .ddim: return "DDIM"
        case .euler: return "Euler"
        case .eulerAncestral: return "Euler a"
        case .dpmPP2MKarras: return "DPM++ 2M Karras"
        case .dpmPP2M: return "DPM++ 2M"
        case .lcm: return "LCM"
        }
    }

    /// One step left (-1) or right (+1); `coarse` (Shift/PgUp) takes bigger steps.
    public func adjust(_ s: inout GenerationSettings, by direction: Int, coarse: Bool = false) {
        let d = Double(direction) * (coarse ? 5 : 1)
        func stepped(_ value: Float, _ step: Double, _ range: ClosedRange<Double>) -> Float {
            Float(min(max(((Double(value) + d * step) / step).rounded() * step, range.lowerBound), range.upperBound))
        }
        func stepped(_ value: Double, _ step: Double, _ range: ClosedRange<Double>) -> Double {
            min(max(((value + d * step) / step).rounded() * step, range.lowerBound), range.upperBound)
        }
        func stepped(_ value: Int, _ step: Int, _ range: ClosedRange<Int>) -> Int {
            min(max(value + Int(d) * step, range.lowerBound), range.upperBound)
        }
        switch self {
        case .guidance: s.request.guidance = stepped(s.request.guidance, 0.5, 1...30)
        case .identityGuidance:
            // "same" is the prompt's value: → goes above it, ← below; back on it is "same" again.
            let next = stepped(s.request.identity.identityGuidance ?? s.request.guidance, 0.5, 1...30)
            s.request.identity.identityGuidance = next == s.request.guidance ? nil : next
        case .textWeight: s.request.identity.textWeight = stepped(s.request.identity.textWeight, 0.1, 0...3)
        case .imageWeight: s.request.identity.imageWeight = stepped(s.request.identity.imageWeight, 0.1, 0...3)
        case .loraScale: s.request.identity.loraScale = stepped(s.request.identity.loraScale, 0.1, 0...2)
        case .pseudoWords: s.request.identity.pseudoWords = stepped(s.request.identity.pseudoWords ?? 1, 1, 1...5)
        case .steps: s.request.steps = stepped(s.request.steps, 1, RequestLimits.steps)
        case .sampler:
            let all = SamplerKind.allCases
            let index = all.firstIndex(of: s.request.sampler) ?? 0
            s.request.sampler = all[((index + direction) % all.count + all.count) % all.count]
        case .seed: s.request.seed = direction < 0 && s.request.seed == 0 ? 0 : UInt64(Int64(s.request.seed) + Int64(d))
        case .batch: s.batch = stepped(s.batch, 1, 1...16)
        case .width: s.request.width = stepped(s.request.width, 64, 64...2048)
        case .height: s.request.height = stepped(s.request.height, 64, 64...2048)
        case .imageStart: s.request.identity.imageStart = min(stepped(s.request.identity.imageStart, 0.05, 0...1), s.request.identity.imageEnd)
        case .imageEnd: s.request.identity.imageEnd = max(stepped(s.request.identity.imageEnd, 0.05, 0...1), s.request.identity.imageStart)
        case .strength:
            let next = stepped(s.request.strength ?? 0, 0.05, 0...1)
            s.request.strength = next <= 0 ? nil : next
        }
    }

    /// Sets the value from typed text (Enter on a row); one-line error when it does not fit.
    public func set(_ s: inout GenerationSettings, from text: String) throws {
        let value = text.trimmingCharacters(in: .whitespaces)
        struct Invalid: Error, CustomStringConvertible { let description: String }
        func number(_ range: ClosedRange<Double>) throws -> Double {
            guard let parsed = Double(value), parsed.isFinite else { throw Invalid(description: "\(label): '\(value)' is not a number") }
            guard range.contains(parsed) else {
                throw Invalid(description: "\(label): \(value) is outside \(Self.format(range.lowerBound))…\(Self.format(range.upperBound))")
            }
            return parsed
        }
        func integer(_ range: ClosedRange<Int>) throws -> Int {
            guard let parsed = Int(value) else { throw Invalid(description: "\(label): '\(value)' is not a whole number") }
            guard range.contains(parsed) else { throw Invalid(description: "\(label): \(value) is outside \(range.lowerBound)…\(range.upperBound)") }
            return parsed
        }
        func size() throws -> Int {
            let parsed = try integer(64...2048)
            guard parsed % 8 == 0 else { throw Invalid(description: "\(label): \(parsed) is not a multiple of 8") }
            return parsed
        }
        switch self {
        case .guidance: s.request.guidance = Float(try number(1...30))
        case .identityGuidance:
            s.request.identity.identityGuidance = ["", "same"].contains(value.lowercased()) ? nil : Float(try number(1...30))
        case .textWeight: s.request.identity.textWeight = Float(try number(0...3))
        case .imageWeight: s.request.identity.imageWeight = Float(try number(0...3))
        case .loraScale: s.request.identity.loraScale = Float(try number(0...2))
        case .pseudoWords: s.request.identity.pseudoWords = try integer(1...5)
        case .steps: s.request.steps = try integer(RequestLimits.steps)
        case .sampler:
            let key = value.lowercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
            guard let kind = SamplerKind(rawValue: key) ?? SamplerKind.allCases.first(where: {
                Self.samplerName($0).lowercased().replacingOccurrences(of: " ", with: "_") == key
            }) else {
                let names = SamplerKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw Invalid(description: "Sampler: unknown '\(value)' (one of \(names))")
            }
            s.request.sampler = kind
        case .seed:
            guard let parsed = UInt64(value) else { throw Invalid(description: "Seed: '\(value)' is not a whole number ≥ 0") }
            s.request.seed = parsed
            s.seedLocked = true
        case .batch: s.batch = try integer(1...16)
        case .width: s.request.width = try size()
        case .height: s.request.height = try size()
        case .imageStart:
            s.request.identity.imageStart = try number(0...1)
            s.request.identity.imageEnd = max(s.request.identity.imageEnd, s.request.identity.imageStart)
        case .imageEnd:
            s.request.identity.imageEnd = try number(0...1)
            s.request.identity.imageStart = min(s.request.identity.imageStart, s.request.identity.imageEnd)
        case .strength:
            s.request.strength = ["", "off", "0"].contains(value.lowercased()) ? nil : try number(0.01...1)
        }
    }
}
