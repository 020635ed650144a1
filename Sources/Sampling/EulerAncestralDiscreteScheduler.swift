import TensorCore

/// Ancestral Euler sampling ("Euler a"), diffusers' `EulerAncestralDiscreteScheduler`: an Euler step
/// down to σ_down, then fresh noise of scale σ_up, drawn every step (the last one included, as
/// diffusers does, so a shared generator stays in step).
public final class EulerAncestralDiscreteScheduler: EulerSigmaScheduler, Scheduler {
    public var usesNoise: Bool { true }

    public func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, random: RandomSource?) -> SchedulerStepOutput {
        checkStepIndex(stepIndex)
        let source = random.required(by: "EulerAncestralDiscreteScheduler")
        let sigma = sigmas[stepIndex]
        let predOriginal = predictOriginal(modelOutput: modelOutput, sample: sample, sigma: sigma)
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
}
