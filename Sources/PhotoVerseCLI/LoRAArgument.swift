import ArgumentParser
import Formats
import Pipeline
import Sampling

extension LoRAChoice {
    /// `FILE[:SCALE]`: the text after the last `:` is the scale when it reads as a number
    /// (a path may hold `:` itself), else the whole argument is the file at scale 1.
    init(argument: String) throws {
        if let colon = argument.lastIndex(of: ":"), let scale = Float(argument[argument.index(after: colon)...]) {
            let path = String(argument[..<colon])
            guard !path.isEmpty else { throw UserFacingError("--lora \(argument.terminalSafe): no file before the scale") }
            self.init(path: path, scale: scale)
        } else {
            self.init(path: argument, scale: 1)
        }
    }
}

/// Settings several options make together (`--preset`); options given on the command line win.
enum Preset: String, ExpressibleByArgument, CaseIterable {
    /// LCM-LoRA (latent-consistency/lcm-lora-sdv1-5): the LCM scheduler, 4 steps, guidance 1.5
    /// (LCM-LoRA's authors recommend 2-8 steps at guidance 1-2).
    case lcm

    func apply(to request: inout GenerationRequest) {
        switch self {
        case .lcm:
            request.sampler = .lcm
            request.steps = 4
            request.guidance = 1.5
        }
    }
}
