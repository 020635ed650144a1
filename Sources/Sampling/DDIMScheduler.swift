import TensorCore

/// DDIM (Song et al. 2020), diffusers' `DDIMScheduler`. `eta` = 0 is the deterministic sampler;
/// `eta` > 0 adds `eta`-scaled DDPM variance and draws noise every step.
public final class DDIMScheduler: Scheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public let eta: Float
    public private(set) var timesteps: [Float] = []
    public var sigmas: [Float] { [] }
    public var initNoiseSigma: Float { 1 }
    public var order: Int { 1 }
    public var usesNoise: Bool { eta > 0 }

    private var intTimesteps: [Int] = []
    private let finalAlphaCumprod: Float

    public init(config: SchedulerConfig = .stableDiffusion15, eta: Float = 0) {
        self.config = config
        self.eta = eta
        noiseSchedule = NoiseSchedule(config: config)
        finalAlphaCumprod = config.setAlphaToOne ? 1 : noiseSchedule.alphasCumprod[0]
    }

    public func setTimesteps(_ steps: Int) throws {
        try TimestepSchedule.checkStepCount(steps, config)
        let values = TimestepSchedule.discrete(config, steps: steps, roundLinspace: true).map { Int($0) }
        if let bad = values.first(where: { $0 < 0 || $0 >= config.numTrainTimesteps }) {
            throw SchedulerError.invalidStepCount(
                steps, reason: "gives timestep \(bad) outside 0..<\(config.numTrainTimesteps) with steps_offset \(config.stepsOffset)")
        }
        intTimesteps = values
        timesteps = values.map { Float($0) }
    }

    public func scaleModelInput(_ sample: Tensor, stepIndex: Int) -> Tensor { sample }

    public func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, random: RandomSource?) -> SchedulerStepOutput {
        checkStepIndex(stepIndex)
        let t = intTimesteps[stepIndex]
        let prevT = t - config.numTrainTimesteps / intTimesteps.count
        let alphaProdT = noiseSchedule.alphasCumprod[t]
        let alphaProdTPrev = prevT >= 0 ? noiseSchedule.alphasCumprod[prevT] : finalAlphaCumprod
        let betaProdT = 1 - alphaProdT
        let sqrtAlpha = alphaProdT.squareRoot(), sqrtBeta = betaProdT.squareRoot()

        var predOriginal: Tensor, predEpsilon: Tensor
        switch config.predictionType {
        case .epsilon:
            predOriginal = elementwise(sample, modelOutput) { x, e in (x - sqrtBeta * e) / sqrtAlpha }
            predEpsilon = modelOutput
        case .vPrediction:
            predOriginal = elementwise(sample, modelOutput) { x, v in sqrtAlpha * x - sqrtBeta * v }
            predEpsilon = elementwise(sample, modelOutput) { x, v in sqrtAlpha * v + sqrtBeta * x }
        }
        if config.clipSample {
            let r = Float(config.clipSampleRange)
            predOriginal = elementwise(predOriginal) { min(max($0, -r), r) }
        }

        let betaProdTPrev = 1 - alphaProdTPrev
        let variance = (betaProdTPrev / betaProdT) * (1 - alphaProdT / alphaProdTPrev)
        let stdDevT = eta * variance.squareRoot()
        let directionScale = (1 - alphaProdTPrev - stdDevT * stdDevT).squareRoot()
        let sqrtAlphaPrev = alphaProdTPrev.squareRoot()
        var prev = elementwise(predOriginal, predEpsilon) { x0, e in sqrtAlphaPrev * x0 + directionScale * e }
        if eta > 0 {
            let noise = random.required(by: "DDIMScheduler(eta: \(eta))").normalTensor(shape: modelOutput.shape)
            prev = elementwise(prev, noise) { x, n in x + stdDevT * n }
        }
        return SchedulerStepOutput(prevSample: prev, predOriginalSample: predOriginal)
    }

    public func addNoise(original: Tensor, noise: Tensor, stepIndex: Int) -> Tensor {
        checkStepIndex(stepIndex)
        return AlphaNoising.addNoise(original: original, noise: noise,
                                     alphaCumprod: noiseSchedule.alphasCumprod[intTimesteps[stepIndex]])
    }
}
