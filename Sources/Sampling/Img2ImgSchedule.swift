/// The truncated schedule of an img2img run.
public struct Img2ImgSchedule: Equatable, Sendable {
    /// Index into the full `timesteps` of the first step run; also the step index whose noise
    /// level `addNoise` applies to the input latents.
    public let startIndex: Int
    /// `timesteps[startIndex...]`.
    public let timesteps: [Float]

    public var steps: Int { timesteps.count }

    public init(startIndex: Int, timesteps: [Float]) {
        self.startIndex = startIndex
        self.timesteps = timesteps
    }

    /// diffusers' `get_timesteps`: `init = min(int(steps * strength), steps)`,
    /// `start = max(steps - init, 0) * order`. Throws for a strength outside (0, 1] or one that
    /// leaves no step (the pipeline's "number of inference steps ... is < 1" error).
    public static func startIndex(steps: Int, strength: Double, order: Int = 1) throws -> Int {
        guard strength > 0 && strength <= 1 else {
            throw SchedulerError.invalidStrength(strength, reason: "must lie in (0, 1]")
        }
        let initTimestep = min(Int(Double(steps) * strength), steps)
        let start = max(steps - initTimestep, 0)
        if steps - start < 1 {
            throw SchedulerError.invalidStrength(
                strength, reason: "leaves \(steps - start) of \(steps) steps to run (need at least 1)")
        }
        return start * order
    }
}
