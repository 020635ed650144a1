import TensorCore

/// Euler's method on the probability-flow ODE in σ space (Karras et al. 2022, Algorithm 2 without
/// churn), diffusers' `EulerDiscreteScheduler` with its defaults (linear σ interpolation, final σ 0).
public final class EulerDiscreteScheduler: Scheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Float] = []
    public private(set) var sigmas: [Float] = []
    public var order: Int { 1 }
    public var usesNoise: Bool { false }

    public init(config: SchedulerConfig = .stableDiffusion15) {
        self.config = config
        noiseSchedule = NoiseSchedule(config: config)
    }

    public var initNoiseSigma: Float { EulerSchedule.initNoiseSigma(sigmas: sigmas, config: config) }

    public func setTimesteps(_ steps: Int) throws {
        (timesteps, sigmas) = try EulerSchedule.make(config: config, noiseSchedule: noiseSchedule, steps: steps)
    }

    public func scaleModelInput(_ sample: Tensor, stepIndex: Int) -> Tensor {
        checkStepIndex(stepIndex)
        return EulerSchedule.scaleModelInput(sample, sigma: sigmas[stepIndex])
    }

    public func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, random: RandomSource?) -> SchedulerStepOutput {
        checkStepIndex(stepIndex)
        let sigma = sigmas[stepIndex]
        let sigmaHat = sigma * (0 + 1)  // gamma = 0: no churn
        let predOriginal = EulerSchedule.predictOriginal(modelOutput: modelOutput, sample: sample, sigma: sigmaHat,
                                                         predictionType: config.predictionType)
        let dt = sigmas[stepIndex + 1] - sigmaHat
        let prev = elementwise(sample, predOriginal) { x, x0 in
            let derivative = (x - x0) / sigmaHat
            return x + derivative * dt
        }
        return SchedulerStepOutput(prevSample: prev, predOriginalSample: predOriginal)
    }

    public func addNoise(original: Tensor, noise: Tensor, stepIndex: Int) -> Tensor {
        checkStepIndex(stepIndex)
        let sigma = sigmas[stepIndex]
        return elementwise(original, noise) { x, n in x + n * sigma }
    }
}

/// The σ schedule and formulas the two Euler schedulers share.
enum EulerSchedule {
    /// Timesteps (Float32, fractional for "linspace") and σ interpolated linearly in t at them, plus 0.
    static func make(config: SchedulerConfig, noiseSchedule: NoiseSchedule, steps: Int) throws -> ([Float], [Float]) {
        try TimestepSchedule.checkStepCount(steps, config)
        let timesteps = TimestepSchedule.discrete(config, steps: steps, roundLinspace: false).map { Float($0) }
        let trainSigmas = noiseSchedule.trainSigmas
        let sigmas = timesteps.map { Float(NumPy.interp(Double($0), trainSigmas)) } + [0]
        return (timesteps, sigmas)
    }

    /// σ_max for "linspace"/"trailing" spacing, √(σ_max² + 1) for "leading".
    static func initNoiseSigma(sigmas: [Float], config: SchedulerConfig) -> Float {
        guard let maxSigma = sigmas.max() else { return 1 }
        return config.timestepSpacing == .leading ? (maxSigma * maxSigma + 1).squareRoot() : maxSigma
    }

    /// `sample / √(σ² + 1)`.
    static func scaleModelInput(_ sample: Tensor, sigma: Float) -> Tensor {
        let scale = (sigma * sigma + 1).squareRoot()
        return elementwise(sample) { $0 / scale }
    }

    /// x₀ from an ε or v prediction at noise level `sigma`.
    static func predictOriginal(modelOutput: Tensor, sample: Tensor, sigma: Float,
                                predictionType: SchedulerConfig.PredictionType) -> Tensor {
        switch predictionType {
        case .epsilon:
            return elementwise(sample, modelOutput) { x, e in x - sigma * e }
        case .vPrediction:
            let variance = sigma * sigma + 1
            let outScale = -sigma / variance.squareRoot()
            return elementwise(sample, modelOutput) { x, v in v * outScale + x / variance }
        }
    }
}
