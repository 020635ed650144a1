import Sampling
import XCTest

/// Timesteps, sigmas and img2img truncation against diffusers' `set_timesteps` for every
/// scheduler, spacing and a range of step counts (1 ... 100).
final class ScheduleTests: XCTestCase {
    func testBetasAndAlphasCumprodMatchTorchExactly() {
        for (name, schedule) in [("scaled_linear", SchedulerConfig.BetaSchedule.scaledLinear), ("linear", .linear)] {
            var config = SchedulerConfig.stableDiffusion15
            config.betaSchedule = schedule
            let noise = NoiseSchedule(config: config)
            let expected = SamplingFixtures.common.schedules[name]!
            XCTAssertEqual(noise.betas, expected.betas, name)
            XCTAssertEqual(noise.alphasCumprod, expected.alphas_cumprod, name)
        }
    }

    func testTimestepsSigmasAndImg2ImgMatchDiffusers() throws {
        var checked = 0
        for record in SamplingFixtures.timesteps {
            let label = "\(record.kind) \(record.timestep_spacing) \(record.steps) steps"
            let scheduler = SamplingFixtures.scheduler(record.kind, SamplingFixtures.config(spacing: record.timestep_spacing))
            try scheduler.setTimesteps(record.steps)
            XCTAssertEqual(scheduler.timesteps, record.timesteps, label)
            if let sigmas = record.sigmas {
                assertClose(scheduler.sigmas, sigmas, tolerance: 1e-6, "\(label): sigmas")
            } else {
                XCTAssertEqual(scheduler.sigmas, [], label)
            }
            XCTAssertEqual(scheduler.initNoiseSigma, record.init_noise_sigma,
                           accuracy: 1e-6 * max(1, record.init_noise_sigma), label)
            for img in record.img2img ?? [] {
                if img.start_index >= record.timesteps.count {  // diffusers' pipeline rejects it too
                    XCTAssertThrowsError(try scheduler.img2imgSchedule(strength: img.strength), label)
                    continue
                }
                let schedule = try scheduler.img2imgSchedule(strength: img.strength)
                XCTAssertEqual(schedule.startIndex, img.start_index, "\(label) strength \(img.strength)")
                XCTAssertEqual(schedule.timesteps, Array(record.timesteps[img.start_index...]), label)
                XCTAssertEqual(schedule.steps, record.timesteps.count - img.start_index, label)
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 150)
    }

    func testSD15LeadingTimesteps() throws {
        // The familiar SD1.5 values, spelled out.
        let ddim = DDIMScheduler()
        try ddim.setTimesteps(10)
        XCTAssertEqual(ddim.timesteps, [901, 801, 701, 601, 501, 401, 301, 201, 101, 1])
        let lcm = LCMScheduler()
        try lcm.setTimesteps(4)
        XCTAssertEqual(lcm.timesteps, [999, 759, 499, 259])
        let dpm = DPMSolverMultistepScheduler()
        try dpm.setTimesteps(1)
        XCTAssertEqual(dpm.timesteps, [999])
        XCTAssertEqual(dpm.sigmas.count, 2)
        XCTAssertEqual(dpm.sigmas.last, 0)
    }
}
