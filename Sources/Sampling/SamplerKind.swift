/// The samplers PhotoVerse offers, by the names the CLI and TUI use.
public enum SamplerKind: String, CaseIterable, Sendable {
    case ddim
    case euler
    case eulerAncestral = "euler_a"
    case dpmPP2MKarras = "dpmpp_2m_karras"
    case dpmPP2M = "dpmpp_2m"
    case lcm

    /// A fresh scheduler of this kind (DDIM with eta 0).
    public func makeScheduler(config: SchedulerConfig = .stableDiffusion15) -> Scheduler {
        switch self {
        case .ddim: return DDIMScheduler(config: config)
        case .euler: return EulerDiscreteScheduler(config: config)
        case .eulerAncestral: return EulerAncestralDiscreteScheduler(config: config)
        case .dpmPP2MKarras: return DPMSolverMultistepScheduler(config: config, useKarrasSigmas: true)
        case .dpmPP2M: return DPMSolverMultistepScheduler(config: config, useKarrasSigmas: false)
        case .lcm: return LCMScheduler(config: config)
        }
    }
}
