import TensorCore

/// Ancestral Euler sampling ("Euler a"), diffusers' `EulerAncestralDiscreteScheduler`: an Euler step
/// down to σ_down, then fresh noise of scale σ_up, drawn every step (the last one included, as
/// diffusers does, so a shared generator stays in step).
public final class EulerAncestralDiscreteScheduler: Scheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Float] = []
    public private(set) var sigmas: [Float] = []
    public var order: Int { 1 }
    public var usesNoise: Bool { true }

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
        let source = random.required(by: "EulerAncestralDiscreteScheduler")
        let sigma = sigmas[stepIndex]
        let predOriginal = EulerSchedule.predictOriginal(modelOutput: modelOutput, sample: sample, sigma: sigma,
                                                         predictionType: config.predictionType)
        let sigmaFrom = sigma, sigmaTo = sigmas[stepIndex + 1]
        let sigmaUp = (sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo) / (sigmaFrom * sigmaFrom)).squareRoot()
        let sigmaDown = (sigmaTo * sigmaTo - sigmaUp * sigmaUp).squareRoot()
        let dt = sigmaDown - sigma
        let noise = source.normalTensor(shape: modelOutput.shape)
        let prev = elementwise(sample, predOriginal, noise) { x, x0, n in
            let derivative = (x - x0) / sigma
            return (x + derivative * dt) + n * sigmaUp
        }
        return SchedulerStepOutput(prevSample: prev, predOriginalSample: predOriginal)
    }

    public func addNoise(original: Tensor, noise: Tensor, stepIndex: Int) -> Tensor {
        checkStepIndex(stepIndex)
        let sigma = sigmas[stepIndex]
        return elementwise(original, noise) { x, n in x + n * sigma }
    }
}
