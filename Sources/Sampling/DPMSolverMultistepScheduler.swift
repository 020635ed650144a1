import Foundation
import TensorCore

/// DPM-Solver++(2M) (Lu et al. 2022), diffusers' `DPMSolverMultistepScheduler` with
/// `algorithm_type = "dpmsolver++"`, `solver_order = 2`, `solver_type = "midpoint"`,
/// `lower_order_final = true`, `final_sigmas_type = "zero"`; with `useKarrasSigmas` (the default)
/// it is "DPM++ 2M Karras".
///
/// The first step (and the first step after `setTimesteps`, img2img included) is first order, the
/// others second order, and the last step is first order down to σ = 0, which returns the model's
/// x₀ estimate itself.
public final class DPMSolverMultistepScheduler: Scheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public let useKarrasSigmas: Bool
    public private(set) var timesteps: [Float] = []
    public private(set) var sigmas: [Float] = []
    public var initNoiseSigma: Float { 1 }
    public var order: Int { 1 }
    public var usesNoise: Bool { false }

    /// x₀ predictions of the previous step (nil before the first step).
    private var previousX0: Tensor?
    /// Steps taken since `setTimesteps` (diffusers' `lower_order_nums`, capped at the order).
    private var lowerOrderNums = 0
    private let solverOrder = 2

    public init(config: SchedulerConfig = .stableDiffusion15, useKarrasSigmas: Bool = true) {
        self.config = config
        self.useKarrasSigmas = useKarrasSigmas
        noiseSchedule = NoiseSchedule(config: config)
    }

    public func setTimesteps(_ steps: Int) throws {
        try TimestepSchedule.checkStepCount(steps, config)
        let trainSigmas = noiseSchedule.trainSigmas
        var times = TimestepSchedule.dpmSolver(config, steps: steps)
        var values: [Double]
        if useKarrasSigmas {
            values = SigmaSchedule.karras(sigmaMin: Double(trainSigmas[0]), sigmaMax: Double(trainSigmas[trainSigmas.count - 1]),
                                          count: steps)
            let logSigmas = trainSigmas.map { log($0) }
            times = values.map { NumPy.round(SigmaSchedule.timestep(forSigma: $0, logSigmas: logSigmas)) }
        } else {
            values = times.map { NumPy.interp($0, trainSigmas) }
        }
        timesteps = times.map { Float(Int($0)) }
        sigmas = values.map { Float($0) } + [0]
        previousX0 = nil
        lowerOrderNums = 0
    }

    public func scaleModelInput(_ sample: Tensor, stepIndex: Int) -> Tensor { sample }

    public func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, random: RandomSource?) -> SchedulerStepOutput {
        checkStepIndex(stepIndex)
        let i = stepIndex, n = timesteps.count
        // final_sigmas_type "zero" makes the last step first order whatever the step count.
        let lowerOrderFinal = i == n - 1
        let x0 = convertModelOutput(modelOutput, sample: sample, sigma: sigmas[i])
        let prev: Tensor
        if solverOrder == 1 || lowerOrderNums < 1 || lowerOrderFinal {
            prev = firstOrderUpdate(x0, sample: sample, stepIndex: i)
        } else {
            prev = secondOrderUpdate(x0, previousX0!, sample: sample, stepIndex: i)
        }
        previousX0 = x0
        if lowerOrderNums < solverOrder { lowerOrderNums += 1 }
        return SchedulerStepOutput(prevSample: prev, predOriginalSample: x0)
    }

    public func addNoise(original: Tensor, noise: Tensor, stepIndex: Int) -> Tensor {
        checkStepIndex(stepIndex)
        let (alpha, sigma) = Self.alphaSigma(sigmas[stepIndex])
        return elementwise(original, noise) { x, n in alpha * x + sigma * n }
    }

    // MARK: - Solver pieces (Float32 scalars in torch's order)

    /// (α_t, σ_t) of the VP process for the σ of the VE parameterisation.
    static func alphaSigma(_ sigma: Float) -> (alpha: Float, sigma: Float) {
        let alpha = 1 / (sigma * sigma + 1).squareRoot()
        return (alpha, sigma * alpha)
    }

    static func lambda(_ alphaSigma: (alpha: Float, sigma: Float)) -> Float {
        log(alphaSigma.alpha) - log(alphaSigma.sigma)
    }

    private func convertModelOutput(_ modelOutput: Tensor, sample: Tensor, sigma: Float) -> Tensor {
        let (alphaT, sigmaT) = Self.alphaSigma(sigma)
        switch config.predictionType {
        case .epsilon:
            return elementwise(sample, modelOutput) { x, e in (x - sigmaT * e) / alphaT }
        case .vPrediction:
            return elementwise(sample, modelOutput) { x, v in alphaT * x - sigmaT * v }
        }
    }

    private func firstOrderUpdate(_ x0: Tensor, sample: Tensor, stepIndex i: Int) -> Tensor {
        let t = Self.alphaSigma(sigmas[i + 1]), s = Self.alphaSigma(sigmas[i])
        let h = Self.lambda(t) - Self.lambda(s)
        let sampleScale = t.sigma / s.sigma
        let x0Scale = t.alpha * (exp(-h) - 1)
        return elementwise(sample, x0) { x, d in sampleScale * x - x0Scale * d }
    }

    private func secondOrderUpdate(_ m0: Tensor, _ m1: Tensor, sample: Tensor, stepIndex i: Int) -> Tensor {
        let t = Self.alphaSigma(sigmas[i + 1]), s0 = Self.alphaSigma(sigmas[i]), s1 = Self.alphaSigma(sigmas[i - 1])
        let lambdaT = Self.lambda(t), lambdaS0 = Self.lambda(s0), lambdaS1 = Self.lambda(s1)
        let h = lambdaT - lambdaS0, h0 = lambdaS0 - lambdaS1
        let r0 = h0 / h
        let d1Scale = 1 / r0
        let sampleScale = t.sigma / s0.sigma
        let d0Scale = t.alpha * (exp(-h) - 1)
        let halfD1Scale = 0.5 * d0Scale
        return elementwise(sample, m0, m1) { x, a, b in
            let d1 = d1Scale * (a - b)
            return (sampleScale * x - d0Scale * a) - halfD1Scale * d1
        }
    }
}
