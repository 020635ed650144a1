import TensorCore

/// Euler's method on the probability-flow ODE in σ space (Karras et al. 2022, Algorithm 2 without
/// churn), diffusers' `EulerDiscreteScheduler` with its defaults (linear σ interpolation, final σ 0).
public final class EulerDiscreteScheduler: EulerSigmaScheduler, Scheduler {
    public var usesNoise: Bool { false }

    public func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, random: RandomSource?) -> SchedulerStepOutput {
        checkStepIndex(stepIndex)
        let sigma = sigmas[stepIndex]
        let sigmaHat = sigma * (0 + 1)  // gamma = 0: no churn
        let predOriginal = predictOriginal(modelOutput: modelOutput, sample: sample, sigma: sigmaHat)
        let dt = sigmas[stepIndex + 1] - sigmaHat
        let prev = elementwise(sample, predOriginal) { x, x0 in
            let derivative = (x - x0) / sigmaHat
            return x + derivative * dt
        }
        return SchedulerStepOutput(prevSample: prev, predOriginalSample: predOriginal)
    }
}
