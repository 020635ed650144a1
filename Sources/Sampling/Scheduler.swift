import TensorCore

/// A denoising schedule and its update rule, the Swift counterpart of a diffusers scheduler.
///
/// Schedulers are stateful (the multistep solvers remember earlier model outputs), so they are
/// classes; one instance drives one sampling loop at a time. The loop, as diffusers' pipelines
/// run it:
///
///     try scheduler.setTimesteps(steps)
///     var latents = random.normalTensor(shape: shape) * scheduler.initNoiseSigma
///     for (i, t) in scheduler.timesteps.enumerated() {
///         let input = scheduler.scaleModelInput(latents, stepIndex: i)
///         let output = unet(input, t, ...)
///         latents = scheduler.step(modelOutput: output, stepIndex: i, sample: latents, random: random).prevSample
///     }
///
/// Steps are addressed by their index into `timesteps` (what diffusers keeps as `step_index`);
/// img2img starts at `img2imgSchedule(strength:).startIndex` (diffusers' `set_begin_index`).
public protocol Scheduler: AnyObject {
    /// The configuration the schedule was built from.
    var config: SchedulerConfig { get }
    /// Training betas and ᾱ.
    var noiseSchedule: NoiseSchedule { get }
    /// The timesteps of the current schedule, descending: the values the UNet is given. Empty
    /// until `setTimesteps` is called.
    var timesteps: [Float] { get }
    /// σ per timestep followed by the final σ (`timesteps.count + 1` values) for the sigma-based
    /// schedulers (Euler, Euler ancestral, DPM-Solver); empty for DDIM and LCM.
    var sigmas: [Float] { get }
    /// The standard deviation of the initial noise: pure-noise latents are `noise * initNoiseSigma`.
    var initNoiseSigma: Float { get }
    /// Model evaluations per entry of `timesteps` (diffusers' `order`; 1 for every scheduler here).
    var order: Int { get }
    /// Whether `step` draws fresh noise from its random source.
    var usesNoise: Bool { get }

    /// Builds the schedule for `steps` inference steps, exactly as diffusers' `set_timesteps`, and
    /// resets the step history. Throws `SchedulerError` for step counts it cannot serve.
    func setTimesteps(_ steps: Int) throws
    /// Scales the latents before they enter the model at `stepIndex` (`scale_model_input`).
    func scaleModelInput(_ sample: Tensor, stepIndex: Int) -> Tensor
    /// One denoising update from `timesteps[stepIndex]` to the next timestep. Stochastic schedulers
    /// (`usesNoise`) draw one `randn(modelOutput.shape)` from `random` per step, as diffusers does
    /// with its generator; deterministic ones ignore it.
    func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, random: RandomSource?) -> SchedulerStepOutput
    /// Noises clean latents to the noise level of `timesteps[stepIndex]` (img2img's `add_noise`
    /// with `timesteps[:1]` after `set_begin_index`).
    func addNoise(original: Tensor, noise: Tensor, stepIndex: Int) -> Tensor
}

/// What one scheduler step produces.
public struct SchedulerStepOutput: Sendable {
    /// The latents for the next step (diffusers' `prev_sample`).
    public let prevSample: Tensor
    /// The model's current estimate of the clean latents (x₀; LCM's `denoised`), for previews.
    public let predOriginalSample: Tensor

    public init(prevSample: Tensor, predOriginalSample: Tensor) {
        self.prevSample = prevSample
        self.predOriginalSample = predOriginalSample
    }
}

extension Scheduler {
    /// A deterministic step (no random source).
    public func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor) -> SchedulerStepOutput {
        step(modelOutput: modelOutput, stepIndex: stepIndex, sample: sample, random: nil)
    }

    /// The part of the current schedule an img2img run of `strength` executes, as diffusers'
    /// `StableDiffusionImg2ImgPipeline.get_timesteps`. Call after `setTimesteps`.
    public func img2imgSchedule(strength: Double) throws -> Img2ImgSchedule {
        let start = try Img2ImgSchedule.startIndex(steps: timesteps.count / order, strength: strength, order: order)
        return Img2ImgSchedule(startIndex: start, timesteps: Array(timesteps[start...]))
    }

    /// The step index of `timestep` in the current schedule, as diffusers' `index_for_timestep`
    /// resolves it (the second occurrence when a timestep repeats), or nil if it is not there.
    public func stepIndex(for timestep: Float) -> Int? {
        let matches = timesteps.indices.filter { timesteps[$0] == timestep }
        return matches.count > 1 ? matches[1] : matches.first
    }

    /// `addNoise` addressed by a timestep of the current schedule (diffusers' `add_noise` without
    /// a begin index).
    public func addNoise(original: Tensor, noise: Tensor, timestep: Float) -> Tensor {
        guard let index = stepIndex(for: timestep) else {
            preconditionFailure("addNoise: timestep \(timestep) is not in the current schedule \(timesteps)")
        }
        return addNoise(original: original, noise: noise, stepIndex: index)
    }

    func checkStepIndex(_ stepIndex: Int, _ caller: String = #function) {
        Sampling.checkStepIndex(stepIndex, count: timesteps.count, caller)
    }
}

/// Stops on a step index outside the current schedule (a caller's bug, not bad input).
func checkStepIndex(_ stepIndex: Int, count: Int, _ caller: String = #function) {
    precondition(stepIndex >= 0 && stepIndex < count,
                 "\(caller): step index \(stepIndex) outside 0..<\(count) (call setTimesteps first)")
}

extension Optional where Wrapped == RandomSource {
    /// The random source a stochastic step needs.
    func required(by scheduler: String) -> RandomSource {
        guard let source = self else { preconditionFailure("\(scheduler).step draws noise: pass a RandomSource") }
        return source
    }
}
