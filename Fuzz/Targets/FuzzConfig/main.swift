import Foundation
import Formats
import FuzzSupport
import Models
import Sampling
import TensorCore

/// The JSON configs through their real decode + validate path (`JSONConfig.decode`, which runs
/// `validate(file:)`; the scheduler's decoder validates itself), laid out as `ConfigInput`: the
/// first byte picks the config type, the rest is the file. A config that passes must then be
/// usable: its derived sizes computable, and a scheduler must build every sampler's schedule and
/// run its steps.
func fuzzConfig(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let input = ConfigInput(FuzzCheck.data(start, count)) else { return 0 }
    let json = input.json
    do {
        switch input.kind {
        case .unet:
            let config = try JSONConfig.decode(UNetConfig.self, from: json, file: "unet/config.json", decoder: ConfigInput.decoder())
            FuzzCheck.expect(config.attentionHeads.count == config.blockOutChannels.count, "config", "heads per level")
            _ = config.downsamplings
        case .vae:
            let config = try JSONConfig.decode(VAEConfig.self, from: json, file: "vae/config.json", decoder: ConfigInput.decoder())
            _ = config.downscale
        case .clipText:
            _ = try JSONConfig.decode(CLIPTextConfig.self, from: json, file: "text_encoder/config.json", decoder: ConfigInput.decoder())
        case .clipVision:
            let config = try JSONConfig.decode(CLIPVisionConfig.self, from: json, file: "image_encoder/config.json",
                                               decoder: ConfigInput.decoder())
            _ = config.sequenceLength
        case .faceDetector:
            let config = try JSONConfig.decode(FaceDetectorConfig.self, from: json, file: "face-detector/config.json",
                                               decoder: ConfigInput.decoder())
            let anchors = SSDAnchors.generate(config.anchors)
            FuzzCheck.expect(anchors.count == config.decoding.numBoxes, "config",
                             "validated detector config gives \(anchors.count) anchors for \(config.decoding.numBoxes) boxes")
        case .scheduler:
            let config = try JSONDecoder().decode(SchedulerConfig.self, from: json)
            try config.validate(file: "scheduler/scheduler_config.json")
            try runSchedules(config, steps: Int(input.selector >> 3) + 1)
        }
    } catch {
        FuzzCheck.clearError(error, "config \(input.kind)")
    }
    return 0
}

/// Every sampler on a validated config: the schedule for `steps` (refused step counts are fine)
/// and every step on a one-element latent.
func runSchedules(_ config: SchedulerConfig, steps: Int) throws {
    for kind in SamplerKind.allCases {
        let scheduler = kind.makeScheduler(config: config)
        do {
            try scheduler.setTimesteps(steps)
        } catch {
            FuzzCheck.clearError(error, "scheduler \(kind) steps \(steps)")
            continue
        }
        let random = TorchRandomSource(seed: 0)
        var sample = Tensor(shape: [1, 1, 1, 1], repeating: 1) * scheduler.initNoiseSigma
        for index in scheduler.timesteps.indices {
            let input = scheduler.scaleModelInput(sample, stepIndex: index)
            sample = scheduler.step(modelOutput: input * 0.5, stepIndex: index, sample: sample, random: random).prevSample
        }
        _ = scheduler.addNoise(original: sample, noise: sample, stepIndex: 0)
    }
}

FuzzCheck.run(fuzzConfig)
