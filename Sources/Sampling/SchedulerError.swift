import Foundation

/// Why a scheduler could not be built or configured. Every case reads as one line that names the
/// offending key or value.
public enum SchedulerError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// A `scheduler_config.json` key holds a value this engine does not accept.
    case invalidConfig(key: String, value: String, reason: String)
    /// `setTimesteps` was asked for a step count the scheduler cannot produce.
    case invalidStepCount(Int, reason: String)
    /// An img2img strength outside (0, 1], or one that leaves no step to run.
    case invalidStrength(Double, reason: String)

    public var description: String {
        switch self {
        case let .invalidConfig(key, value, reason):
            return "scheduler config: \(key) = \(value): \(reason)"
        case let .invalidStepCount(steps, reason):
            return "scheduler: number of inference steps \(steps): \(reason)"
        case let .invalidStrength(strength, reason):
            return "img2img: strength \(strength): \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
