import Foundation

/// The timestep lists of diffusers' `set_timesteps`, per scheduler family, descending.
///
/// One deliberate deviation: for "trailing" spacing NumPy's float `arange` sometimes yields one
/// value too many (61 or 103 steps of 1000: a last timestep that rounds to 0 and becomes −1); only
/// the first `steps` values are kept here.
enum TimestepSchedule {
    /// Throws unless `1 <= steps <= num_train_timesteps`.
    static func checkStepCount(_ steps: Int, _ config: SchedulerConfig) throws {
        if steps < 1 {
            throw SchedulerError.invalidStepCount(steps, reason: "must be at least 1")
        }
        if steps > config.numTrainTimesteps {
            throw SchedulerError.invalidStepCount(
                steps, reason: "cannot exceed num_train_timesteps (\(config.numTrainTimesteps))")
        }
    }

    /// DDIMScheduler / EulerDiscreteScheduler / EulerAncestralDiscreteScheduler. DDIM rounds the
    /// "linspace" values to integers; the Euler schedulers keep them as Float32 (`rounded: false`).
    static func discrete(_ config: SchedulerConfig, steps: Int, roundLinspace: Bool) -> [Double] {
        let t = config.numTrainTimesteps
        switch config.timestepSpacing {
        case .linspace:
            let values = NumPy.linspace(0, Double(t - 1), steps)
            return values.reversed().map { roundLinspace ? NumPy.round($0) : Double(Float($0)) }
        case .leading:
            let ratio = t / steps
            return (0..<steps).reversed().map { Double($0 * ratio + config.stepsOffset) }
        case .trailing:
            return trailing(from: t, ratio: Double(t) / Double(steps), steps: steps)
        }
    }

    /// DPMSolverMultistepScheduler (before any Karras re-spacing); `steps` values.
    static func dpmSolver(_ config: SchedulerConfig, steps: Int) -> [Double] {
        let last = config.numTrainTimesteps  // lambda_min_clipped = -inf clips nothing
        switch config.timestepSpacing {
        case .linspace:
            return NumPy.linspace(0, Double(last - 1), steps + 1).map(NumPy.round).reversed().dropLast()
        case .leading:
            let ratio = last / (steps + 1)
            return (1...steps).reversed().map { Double($0 * ratio + config.stepsOffset) }
        case .trailing:
            return trailing(from: last, ratio: Double(config.numTrainTimesteps) / Double(steps), steps: steps)
        }
    }

    /// LCMScheduler: `steps` evenly skipped entries of the distillation schedule
    /// (`original_inference_steps` timesteps `k − 1, 2k − 1, ...`, k = T / original steps).
    static func lcm(_ config: SchedulerConfig, steps: Int) throws -> [Double] {
        try checkStepCount(steps, config)
        let original = config.originalInferenceSteps
        if steps > original {
            throw SchedulerError.invalidStepCount(
                steps, reason: "LCM cannot exceed original_inference_steps (\(original))")
        }
        let k = config.numTrainTimesteps / original
        let origin = (1...original).map { $0 * k - 1 }.reversed().map { $0 }
        let indices = NumPy.linspace(0, Double(origin.count), steps, endpoint: false).map { Int($0.rounded(.down)) }
        return indices.map { Double(origin[$0]) }
    }

    /// `np.round(np.arange(start, 0, -ratio)) - 1`, first `steps` values.
    private static func trailing(from start: Int, ratio: Double, steps: Int) -> [Double] {
        NumPy.arange(Double(start), 0, -ratio).prefix(steps).map { NumPy.round($0) - 1 }
    }
}
