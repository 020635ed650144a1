import Formats

/// One axis of a sweep: a knob and the values it takes (`image-weight=0,0.5,1`).
public struct SweepAxis: Equatable, Sendable {
    public enum Knob: String, CaseIterable, Sendable {
        case textWeight = "text-weight", imageWeight = "image-weight", loraScale = "lora-scale"
        case guidance, identityGuidance = "identity-guidance", tokens, imageStart = "image-start"
        case imageEnd = "image-end", strength, steps, seed
        /// The scale of the request's first / second LoRA file (`--lora`).
        case lora, lora2

        /// Which LoRA file of the request the knob scales; nil for the other knobs.
        var loraIndex: Int? { self == .lora ? 0 : self == .lora2 ? 1 : nil }
    }

    public let knob: Knob
    public let values: [Double]

    public init(knob: Knob, values: [Double]) {
        self.knob = knob
        self.values = values
    }

    /// Parses `knob=v1,v2,...` (2 to 12 values); one line naming what is wrong otherwise.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        let names = Knob.allCases.map(\.rawValue).joined(separator: ", ")
        guard parts.count == 2, let knob = Knob(rawValue: parts[0].trimmingCharacters(in: .whitespaces)) else {
            throw InvalidRequest("sweep axis '\(text.terminalSafe)': expected KNOB=V1,V2,... with KNOB one of \(names)")
        }
        let values = parts[1].split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.allSatisfy({ $0?.isFinite == true }), (1...12).contains(values.count) else {
            throw InvalidRequest("sweep axis '\(text.terminalSafe)': values must be 1 to 12 finite numbers separated by commas")
        }
        self.init(knob: knob, values: values.map { $0! })
    }

    /// `image-weight=0.5`, as the sheet labels a row or column.
    public func label(_ index: Int) -> String {
        let value = values[index]
        let text = value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
        return "\(knob.rawValue)=\(text)"
    }

    /// `request` with this knob set to its `index`-th value.
    public func apply(_ index: Int, to request: GenerationRequest) -> GenerationRequest {
        var r = request
        let v = values[index]
        switch knob {
        case .textWeight: r.identity.textWeight = Float(v)
        case .imageWeight: r.identity.imageWeight = Float(v)
        case .loraScale: r.identity.loraScale = Float(v)
        case .guidance: r.guidance = Float(v)
        case .identityGuidance: r.identity.identityGuidance = Float(v)
        case .tokens: r.identity.pseudoWords = Int(v)
        case .imageStart: r.identity.imageStart = v
        case .imageEnd: r.identity.imageEnd = v
        case .strength: r.strength = v
        case .steps: r.steps = Int(v)
        case .seed: r.seed = UInt64(max(0, min(v, Double(UInt64.max / 2))))
        case .lora, .lora2:
            // a request without that file is refused by SweepPlan.validate
            if let i = knob.loraIndex, r.loras.indices.contains(i) { r.loras[i].scale = Float(v) }
        }
        return r
    }
}

/// A grid of requests that differ only in one or two knobs (same seed, same everything else),
/// to pick the trade-off between likeness and following the prompt.
public struct SweepPlan: Sendable {
    public let base: GenerationRequest
    public let x: SweepAxis
    public let y: SweepAxis?

    public init(base: GenerationRequest, x: SweepAxis, y: SweepAxis?) {
        self.base = base
        self.x = x
        self.y = y
    }

    public var rows: Int { y?.values.count ?? 1 }
    public var columns: Int { x.values.count }

    /// The request of cell (row, column); each is validated before any runs.
    public func request(row: Int, column: Int) -> GenerationRequest {
        let withX = x.apply(column, to: base)
        return y.map { $0.apply(row, to: withX) } ?? withX
    }

    public func validate() throws {
        for axis in [x] + (y.map { [$0] } ?? []) {
            if let index = axis.knob.loraIndex, index >= base.loras.count {
                throw InvalidRequest("sweep axis \(axis.knob.rawValue): the request has \(base.loras.count) LoRA file\(base.loras.count == 1 ? "" : "s") (give them with --lora FILE[:SCALE])")
            }
        }
        for row in 0..<rows {
            for column in 0..<columns {
                do {
                    try request(row: row, column: column).validate()
                } catch {
                    let where_ = [x.label(column)] + (y.map { [$0.label(row)] } ?? [])
                    throw InvalidRequest("sweep cell \(where_.joined(separator: ", ")): \(error)")
                }
            }
        }
    }
}
