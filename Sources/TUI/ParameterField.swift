import Foundation
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
        case .identityGuidance: return "s_I: how strongly the face steers (same = ordinary guidance)"
        case .textWeight: return "γ: weight of the text attention (more = follows the prompt)"
        case .imageWeight: return "σ: weight of the image attention (more = more like the face, 0 = off)"
        case .loraScale: return "α: LoRA scale on the text keys/values (0 = base model)"
        case .pseudoWords: return "m: pseudo-words that replace S* (the paper uses 1)"
        case .steps: return "denoising steps"
        case .sampler: return "the scheduler"
        case .seed: return "Space locks/unlocks, n draws a new seed; unlocked runs draw their own"
        case .batch: return "runs queued by one press of g (consecutive seeds)"
        case .width, .height: return "output size in pixels (multiples of 64)"
        case .imageStart, .imageEnd: return "fraction of the steps where the image branch is active"
        case .strength: return "start from the noised reference (off = from noise; needs a square size)"
        }
    }

    public func value(in s: GenerationSettings) -> String {
        switch self {
        case .guidance: return Self.format(s.guidance)
        case .identityGuidance: return s.identityGuidance.map(Self.format) ?? "same"
        case .textWeight: return Self.format(s.textWeight)
        case .imageWeight: return Self.format(s.imageWeight)
        case .loraScale: return Self.format(s.loraScale)
        case .pseudoWords: return "\(s.pseudoWords)"
        case .steps: return "\(s.steps)"
        case .sampler: return Self.samplerName(s.samplerKind)
        case .seed: return "\(s.seed) " + (s.seedLocked ? "(locked)" : "(new each run)")
        case .batch: return "\(s.batch)"
        case .width: return "\(s.width)"
        case .height: return "\(s.height)"
        case .imageStart: return Self.format(s.imageStart)
        case .imageEnd: return Self.format(s.imageEnd)
        case .strength: return s.strength.map { Self.format($0) } ?? "off"
        }
    }

    /// The value as typed into the entry line (no decoration).
    public func editableValue(in s: GenerationSettings) -> String {
        switch self {
        case .seed: return "\(s.seed)"
        case .sampler: return s.samplerKind.rawValue
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
        case .guidance: s.guidance = stepped(s.guidance, 0.5, 1...30)
        case .identityGuidance:
            // Below 1 means "same as the prompt's guidance".
            let current = s.identityGuidance ?? 0.5
            let next = stepped(current, 0.5, 0.5...30)
            s.identityGuidance = next < 1 ? nil : next
        case .textWeight: s.textWeight = stepped(s.textWeight, 0.1, 0...3)
        case .imageWeight: s.imageWeight = stepped(s.imageWeight, 0.1, 0...3)
        case .loraScale: s.loraScale = stepped(s.loraScale, 0.1, 0...2)
        case .pseudoWords: s.pseudoWords = stepped(s.pseudoWords, 1, 1...5)
        case .steps: s.steps = stepped(s.steps, 1, 1...150)
        case .sampler:
            let all = SamplerKind.allCases
            let index = all.firstIndex(of: s.samplerKind) ?? 0
            s.sampler = all[((index + direction) % all.count + all.count) % all.count].rawValue
        case .seed: s.seed = direction < 0 && s.seed == 0 ? 0 : UInt64(Int64(s.seed) + Int64(d))
        case .batch: s.batch = stepped(s.batch, 1, 1...16)
        case .width: s.width = stepped(s.width, 64, 64...2048)
        case .height: s.height = stepped(s.height, 64, 64...2048)
        case .imageStart: s.imageStart = min(stepped(s.imageStart, 0.05, 0...1), s.imageEnd)
        case .imageEnd: s.imageEnd = max(stepped(s.imageEnd, 0.05, 0...1), s.imageStart)
        case .strength:
            let next = stepped(s.strength ?? 0, 0.05, 0...1)
            s.strength = next <= 0 ? nil : next
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
        case .guidance: s.guidance = Float(try number(1...30))
        case .identityGuidance:
            s.identityGuidance = ["", "same"].contains(value.lowercased()) ? nil : Float(try number(1...30))
        case .textWeight: s.textWeight = Float(try number(0...3))
        case .imageWeight: s.imageWeight = Float(try number(0...3))
        case .loraScale: s.loraScale = Float(try number(0...2))
        case .pseudoWords: s.pseudoWords = try integer(1...5)
        case .steps: s.steps = try integer(1...150)
        case .sampler:
            let key = value.lowercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
            guard let kind = SamplerKind(rawValue: key) ?? SamplerKind.allCases.first(where: {
                Self.samplerName($0).lowercased().replacingOccurrences(of: " ", with: "_") == key
            }) else {
                let names = SamplerKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw Invalid(description: "Sampler: unknown '\(value)' (one of \(names))")
            }
            s.sampler = kind.rawValue
        case .seed:
            guard let parsed = UInt64(value) else { throw Invalid(description: "Seed: '\(value)' is not a whole number ≥ 0") }
            s.seed = parsed
            s.seedLocked = true
        case .batch: s.batch = try integer(1...16)
        case .width: s.width = try size()
        case .height: s.height = try size()
        case .imageStart:
            s.imageStart = try number(0...1)
            s.imageEnd = max(s.imageEnd, s.imageStart)
        case .imageEnd:
            s.imageEnd = try number(0...1)
            s.imageStart = min(s.imageStart, s.imageEnd)
        case .strength:
            s.strength = ["", "off", "0"].contains(value.lowercased()) ? nil : try number(0.01...1)
        }
    }
}
