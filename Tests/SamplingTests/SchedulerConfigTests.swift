import Foundation
import Sampling
import TestSupport
import XCTest

final class SchedulerConfigTests: XCTestCase {
    private func decode(_ json: String) throws -> SchedulerConfig {
        try JSONDecoder().decode(SchedulerConfig.self, from: Data(json.utf8))
    }

    /// Decoding must fail with a one-line `SchedulerError` that names `fragments`.
    private func assertRejected(_ json: String, mentioning fragments: [String],
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try decode(json), file: file, line: line) { error in
            guard let error = error as? SchedulerError else {
                return XCTFail("expected SchedulerError, got \(error)", file: file, line: line)
            }
            let text = error.description
            XCTAssertFalse(text.contains("\n"), text, file: file, line: line)
            for fragment in fragments {
                XCTAssert(text.contains(fragment), "\"\(text)\" should mention \(fragment)", file: file, line: line)
            }
        }
    }

    func testReadsTheSD15SchedulerConfig() throws {
        let config = try SchedulerConfig.load(from: Fixtures.url("sampling/scheduler_config.json"))
        XCTAssertEqual(config, .stableDiffusion15)
        XCTAssertEqual(config.numTrainTimesteps, 1000)
        XCTAssertEqual(config.betaSchedule, .scaledLinear)
        XCTAssertEqual(config.timestepSpacing, .leading)
        XCTAssertEqual(config.stepsOffset, 1)
        XCTAssertFalse(config.setAlphaToOne)
    }

    func testReadsEveryKnownKey() throws {
        let config = try decode("""
        {"num_train_timesteps": 500, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear",
         "timestep_spacing": "trailing", "steps_offset": 0, "prediction_type": "v_prediction",
         "set_alpha_to_one": true, "clip_sample": true, "clip_sample_range": 2.0,
         "original_inference_steps": 25, "timestep_scaling": 5.0, "trained_betas": null,
         "thresholding": false, "_class_name": "DDIMScheduler", "skip_prk_steps": true}
        """)
        XCTAssertEqual(config, SchedulerConfig(
            numTrainTimesteps: 500, betaStart: 0.0001, betaEnd: 0.02, betaSchedule: .linear,
            timestepSpacing: .trailing, stepsOffset: 0, predictionType: .vPrediction, setAlphaToOne: true,
            clipSample: true, clipSampleRange: 2, originalInferenceSteps: 25, timestepScaling: 5))
    }

    func testMissingKeysTakeSD15Values() throws {
        XCTAssertEqual(try decode("{}"), .stableDiffusion15)
    }

    func testRejectsUnsupportedValuesNamingKeyAndValue() {
        assertRejected(#"{"beta_schedule": "squaredcos_cap_v2"}"#, mentioning: ["beta_schedule", "squaredcos_cap_v2"])
        assertRejected(#"{"beta_schedule": "cosine"}"#, mentioning: ["beta_schedule", "\"cosine\"", "scaled_linear"])
        assertRejected(#"{"timestep_spacing": "uniform"}"#, mentioning: ["timestep_spacing", "uniform"])
        assertRejected(#"{"prediction_type": "sample"}"#, mentioning: ["prediction_type", "sample"])
        assertRejected(#"{"beta_start": "small"}"#, mentioning: ["beta_start", "small", "number"])
        assertRejected(#"{"num_train_timesteps": 1}"#, mentioning: ["num_train_timesteps", "1"])
        assertRejected(#"{"beta_end": 1.5}"#, mentioning: ["beta_end", "1.5"])
        assertRejected(#"{"trained_betas": [0.1, 0.2]}"#, mentioning: ["trained_betas", "2 values"])
        assertRejected(#"{"thresholding": true}"#, mentioning: ["thresholding"])
        assertRejected(#"{"rescale_betas_zero_snr": true}"#, mentioning: ["rescale_betas_zero_snr"])
        assertRejected(#"{"original_inference_steps": 0}"#, mentioning: ["original_inference_steps", "0"])
    }

    func testStepCountLimits() {
        for kind in SamplerKind.allCases {
            let scheduler = kind.makeScheduler()
            for steps in [0, -3, 1001] {
                XCTAssertThrowsError(try scheduler.setTimesteps(steps), "\(kind) \(steps)") { error in
                    guard case .invalidStepCount(let n, _)? = error as? SchedulerError else {
                        return XCTFail("\(kind): expected invalidStepCount, got \(error)")
                    }
                    XCTAssertEqual(n, steps)
                    let text = "\(error)"
                    XCTAssert(text.contains("\(steps)") && !text.contains("\n"), text)
                }
            }
            XCTAssertNoThrow(try scheduler.setTimesteps(1), "\(kind)")
        }
        XCTAssertThrowsError(try LCMScheduler().setTimesteps(51)) { error in
            XCTAssert("\(error)".contains("original_inference_steps"), "\(error)")
        }
        XCTAssertNoThrow(try LCMScheduler().setTimesteps(50))
        XCTAssertNoThrow(try EulerDiscreteScheduler().setTimesteps(1000))
        // Leading spacing with steps_offset 1 and 1000 steps would ask DDIM for timestep 1000.
        XCTAssertThrowsError(try DDIMScheduler().setTimesteps(1000)) { error in
            XCTAssert("\(error)".contains("timestep 1000"), "\(error)")
        }
    }

    func testImg2ImgStrengthLimits() throws {
        let scheduler = EulerDiscreteScheduler()
        try scheduler.setTimesteps(10)
        for strength in [0, -0.5, 1.5, .nan] {
            XCTAssertThrowsError(try scheduler.img2imgSchedule(strength: strength)) { error in
                XCTAssert("\(error)".contains("strength"), "\(error)")
            }
        }
        XCTAssertThrowsError(try scheduler.img2imgSchedule(strength: 0.05), "int(10 × 0.05) = 0 steps")
        let full = try scheduler.img2imgSchedule(strength: 1)
        XCTAssertEqual(full.startIndex, 0)
        XCTAssertEqual(full.timesteps, scheduler.timesteps)
        XCTAssertEqual(try Img2ImgSchedule.startIndex(steps: 10, strength: 0.3), 7)  // int(3.0000000000000004) = 3
        XCTAssertEqual(try Img2ImgSchedule.startIndex(steps: 25, strength: 0.3), 18)  // int(7.5) = 7
    }
}
