import TensorCore

/// What diffusers' two Euler schedulers share, kept once: the σ schedule (timesteps, σ interpolated
/// linearly in t at them, plus a final 0), the input scaling, the initial noise, img2img noising and
/// x₀ from the model output. `EulerDiscreteScheduler` and `EulerAncestralDiscreteScheduler` add
/// their own `step` and conform to `Scheduler`.
public class EulerSigmaScheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Float] = []
    public private(set) var sigmas: [Float] = []
    public var order: Int { 1 }

    public init(config: SchedulerConfig = .stableDiffusion15) {
        self.config = config
        noiseSchedule = NoiseSchedule(config: config)
    }

    /// σ_max for "linspace"/"trailing" spacing, √(σ_max² + 1) for "leading".
    public var initNoiseSigma: Float {
        guard let maxSigma = sigmas.max() else { return 1 }
        return config.timestepSpacing == .leading ? (maxSigma * maxSigma + 1).squareRoot() : maxSigma
    }

    /// Timesteps as Float32 (fractional for "linspace": diffusers does not round them here).
    public func setTimesteps(_ steps: Int) throws {
        try TimestepSchedule.checkStepCount(steps, config)
        timesteps = TimestepSchedule.discrete(config, steps: steps, roundLinspace: false).map { Float($0) }
        let trainSigmas = noiseSchedule.trainSigmas
        sigmas = timesteps.map { Float(NumPy.interp(Double($0), trainSigmas)) } + [0]
    }

    /// `sample / √(σ² + 1)`.
    public func scaleModelInput(_ sample: Tensor, stepIndex: Int) -> Tensor {
        checkStepIndex(stepIndex, count: timesteps.count)
        let sigma = sigmas[stepIndex]
        let scale = (sigma * sigma + 1).squareRoot()
        return elementwise(sample) { $0 / scale }
    }

    public func addNoise(original: Tensor, noise: Tensor, stepIndex: Int) -> Tensor {
        checkStepIndex(stepIndex, count: timesteps.count)
        let sigma = sigmas[stepIndex]
        return elementwise(original, noise) { x, n in x + n * sigma }
    }

    /// x₀ from an ε or v prediction at noise level `sigma`.
    func predictOriginal(modelOutput: Tensor, sample: Tensor, sigma: Float) -> Tensor {
        switch config.predictionType {
        case .epsilon:
            return elementwise(sample, modelOutput) { x, e in x - sigma * e }
        case .vPrediction:
            let variance = sigma * sigma + 1
            let outScale = -sigma / variance.squareRoot()
            return elementwise(sample, modelOutput) { x, v in v * outScale + x / variance }
        }
    }
}
