import Foundation

/// The training noise schedule: betas and cumulative products of alphas, in Float32, computed
/// exactly as diffusers computes them with torch on the CPU (`torch.linspace` in Float32 with its
/// fused `start + step * i` from both ends, `torch.cumprod` accumulating in Float64).
public struct NoiseSchedule: Sendable {
    /// βₜ for t = 0 ..< numTrainTimesteps.
    public let betas: [Float]
    /// ᾱₜ = ∏ (1 − βₛ), s ≤ t.
    public let alphasCumprod: [Float]

    public init(config: SchedulerConfig) {
        let n = config.numTrainTimesteps
        if let trained = config.trainedBetas {
            betas = trained.map { Float($0) }
        } else {
            switch config.betaSchedule {
            case .linear:
                betas = NoiseSchedule.torchLinspace(Float(config.betaStart), Float(config.betaEnd), n)
            case .scaledLinear:
                // Python's `beta_start ** 0.5` is libm pow.
                betas = NoiseSchedule.torchLinspace(Float(pow(config.betaStart, 0.5)),
                                                    Float(pow(config.betaEnd, 0.5)), n).map { $0 * $0 }
            }
        }
        var product = 1.0
        alphasCumprod = betas.map { beta in
            product *= Double(1 - beta)
            return Float(product)
        }
    }

    /// σₜ = √((1 − ᾱₜ) / ᾱₜ) for every training timestep, ascending in t (the Euler/DPM sigmas
    /// before any interpolation).
    public var trainSigmas: [Float] {
        alphasCumprod.map { ((1 - $0) / $0).squareRoot() }
    }

    /// `torch.linspace(start, end, n, dtype=float32)` on the CPU.
    static func torchLinspace(_ start: Float, _ end: Float, _ n: Int) -> [Float] {
        guard n > 1 else { return n == 1 ? [start] : [] }
        let step = (end - start) / Float(n - 1)
        let halfway = n / 2
        return (0..<n).map { i in
            i < halfway ? start.addingProduct(step, Float(i)) : end.addingProduct(-step, Float(n - i - 1))
        }
    }
}
