import TensorCore

/// Latent Consistency Model sampling (Luo et al. 2023), diffusers' `LCMScheduler`: each step maps
/// the latents to the consistency function's x₀ estimate (`c_skip · x + c_out · x̂₀`), then, except
/// at the last step, noises it back to the next timestep with fresh noise.
public final class LCMScheduler: Scheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Float] = []
    public var sigmas: [Float] { [] }
    public var initNoiseSigma: Float { 1 }
    public var order: Int { 1 }
    public var usesNoise: Bool { true }

    private var intTimesteps: [Int] = []
    private let finalAlphaCumprod: Float

    public init(config: SchedulerConfig = .stableDiffusion15) {
        self.config = config
        noiseSchedule = NoiseSchedule(config: config)
        finalAlphaCumprod = config.setAlphaToOne ? 1 : noiseSchedule.alphasCumprod[0]
    }

    public func setTimesteps(_ steps: Int) throws {
        intTimesteps = try TimestepSchedule.lcm(config, steps: steps).map { Int($0) }
        timesteps = intTimesteps.map { Float($0) }
    }

    public func scaleModelInput(_ sample: Tensor, stepIndex: Int) -> Tensor { sample }

    /// (c_skip, c_out) of the consistency boundary condition at timestep `t` (σ_data = 0.5).
    public func boundaryScalings(timestep t: Int) -> (cSkip: Float, cOut: Float) {
        let scaled = Float(t) * Float(config.timestepScaling)
        let sigmaData2: Float = 0.25
        let cSkip = sigmaData2 / (scaled * scaled + sigmaData2)
        let cOut = scaled / (scaled * scaled + sigmaData2).squareRoot()
        return (cSkip, cOut)
    }

    public func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, random: RandomSource?) -> SchedulerStepOutput {
        checkStepIndex(stepIndex)
        let t = intTimesteps[stepIndex]
        let prevT = stepIndex + 1 < intTimesteps.count ? intTimesteps[stepIndex + 1] : t
        let alphaProdT = noiseSchedule.alphasCumprod[t]
        let alphaProdTPrev = prevT >= 0 ? noiseSchedule.alphasCumprod[prevT] : finalAlphaCumprod
        let sqrtAlpha = alphaProdT.squareRoot(), sqrtBeta = (1 - alphaProdT).squareRoot()
        let (cSkip, cOut) = boundaryScalings(timestep: t)

        var predOriginal: Tensor
        switch config.predictionType {
        case .epsilon:
            predOriginal = elementwise(sample, modelOutput) { x, e in (x - sqrtBeta * e) / sqrtAlpha }
        case .vPrediction:
            predOriginal = elementwise(sample, modelOutput) { x, v in sqrtAlpha * x - sqrtBeta * v }
        }
        if config.clipSample {
            let r = Float(config.clipSampleRange)
            predOriginal = elementwise(predOriginal) { min(max($0, -r), r) }
        }
        let denoised = elementwise(predOriginal, sample) { x0, x in cOut * x0 + cSkip * x }
        guard stepIndex != intTimesteps.count - 1 else {
            return SchedulerStepOutput(prevSample: denoised, predOriginalSample: denoised)
        }
        let noise = random.required(by: "LCMScheduler").normalTensor(shape: modelOutput.shape)
        let a = alphaProdTPrev.squareRoot(), b = (1 - alphaProdTPrev).squareRoot()
        let prev = elementwise(denoised, noise) { d, n in a * d + b * n }
        return SchedulerStepOutput(prevSample: prev, predOriginalSample: denoised)
    }

    public func addNoise(original: Tensor, noise: Tensor, stepIndex: Int) -> Tensor {
        checkStepIndex(stepIndex)
        return AlphaNoising.addNoise(original: original, noise: noise,
                                     alphaCumprod: noiseSchedule.alphasCumprod[intTimesteps[stepIndex]])
    }
}
