import TensorCore

/// How one denoising step's UNet batch is laid out and its predictions combined.
///
/// - unguided: [prompt]
/// - two-pass: [∅ ; prompt], ε = ε∅ + s·(ε_p − ε∅)
/// - three-term: [∅ ; id ; id+prompt],
///   ε = ε∅ + s_I·(ε_id − ε∅) + s_T·(ε_full − ε_id); with s_I = s_T it equals two-pass,
///   which then runs instead (one UNet row fewer).
enum GuidanceBatch: Equatable {
    case unguided
    case twoPass(scale: Float)
    case threeTerm(identity: Float, prompt: Float)

    init(promptScale: Float, identityScale: Float?) {
        let identity = identityScale ?? promptScale
        if identity != promptScale {
            self = .threeTerm(identity: identity, prompt: promptScale)
        } else if promptScale > 1 {
            self = .twoPass(scale: promptScale)
        } else {
            self = .unguided
        }
    }

    var rows: Int {
        switch self {
        case .unguided: return 1
        case .twoPass: return 2
        case .threeTerm: return 3
        }
    }

    func combine(_ prediction: Tensor) -> Tensor {
        switch self {
        case .unguided:
            return prediction
        case .twoPass(let s):
            let parts = prediction.chunked(2, axis: 0)
            return Tensor.linearCombination(1 - s, parts[0], s, parts[1])
        case .threeTerm(let sI, let sT):
            let parts = prediction.chunked(3, axis: 0)
            // ε∅·(1 − s_I) + ε_id·(s_I − s_T) + ε_full·s_T, the same sum regrouped.
            let first = Tensor.linearCombination(1 - sI, parts[0], sI - sT, parts[1])
            return Tensor.linearCombination(1, first, sT, parts[2])
        }
    }
}
