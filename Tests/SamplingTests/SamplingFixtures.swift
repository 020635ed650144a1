import Foundation
import Sampling
import TensorCore
import TestSupport
import XCTest

/// The golden files written by `training/fixtures/make_sampling_fixtures.py` (diffusers 0.42.1,
/// torch 2.13 CPU), decoded once per test process.
enum SamplingFixtures {
    struct Schedule: Decodable {
        let betas: [Float]
        let alphas_cumprod: [Float]
    }

    struct Common: Decodable {
        let shape: [Int]
        let seed: UInt64
        let base: [Float]
        let image: [Float]
        let schedules: [String: Schedule]
    }

    struct Img2Img: Decodable {
        let strength: Double
        let start_index: Int
    }

    struct TimestepRecord: Decodable {
        let kind: String
        let timestep_spacing: String
        let steps: Int
        let timesteps: [Float]
        let sigmas: [Float]?
        let init_noise_sigma: Float
        let img2img: [Img2Img]?
    }

    struct StepRecord: Decodable {
        let index: Int
        let prev_sample: [Float]
        let pred_original_sample: [Float]
        let model_input: [Float]?
    }

    struct Loop: Decodable {
        let name: String
        let kind: String
        let steps: Int
        let eta: Double
        let seed: UInt64
        let config: [String: String]
        let strength: Double?
        let start_index: Int
        let timesteps: [Float]
        let initial_latents: [Float]
        let steps_out: [StepRecord]
        let final: [Float]
    }

    struct RandnCall: Decodable {
        let shape: [Int]
        let values: [Float]
        let indices: [Int]?
        let sum: Double?
    }

    struct RandnCase: Decodable {
        let seed: UInt64
        let calls: [RandnCall]
    }

    struct Randn: Decodable {
        let torch_version: String
        let cpu_capability: String
        let cases: [RandnCase]
    }

    static func load<T: Decodable>(_ name: String, as type: T.Type) -> T {
        let url = Fixtures.url("sampling/\(name)")
        do {
            return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read fixture \(url.path): \(error) (run training/fixtures/make_sampling_fixtures.py)")
        }
    }

    static let common = load("common.json", as: Common.self)
    static let timesteps = load("timesteps.json", as: [TimestepRecord].self)
    static let loops = load("loops.json", as: [Loop].self)
    static let randnAVX2 = load("randn_avx2.json", as: Randn.self)
    static let randnDefault = load("randn_default.json", as: Randn.self)

    /// The SD1.5 config with the fixture's string overrides applied.
    static func config(_ overrides: [String: String] = [:], spacing: String? = nil) -> SchedulerConfig {
        var config = SchedulerConfig.stableDiffusion15
        var all = overrides
        if let spacing { all["timestep_spacing"] = spacing }
        for (key, value) in all {
            switch key {
            case "timestep_spacing": config.timestepSpacing = SchedulerConfig.TimestepSpacing(rawValue: value)!
            case "prediction_type": config.predictionType = SchedulerConfig.PredictionType(rawValue: value)!
            default: fatalError("fixture override \(key) not handled")
            }
        }
        return config
    }

    /// The scheduler a fixture `kind` names.
    static func scheduler(_ kind: String, _ config: SchedulerConfig, eta: Double = 0) -> Scheduler {
        if kind == "ddim" { return DDIMScheduler(config: config, eta: Float(eta)) }
        guard let sampler = SamplerKind(rawValue: kind) else { fatalError("unknown fixture kind \(kind)") }
        return sampler.makeScheduler(config: config)
    }
}

/// Relative-or-absolute comparison used for every golden: |a − b| ≤ tolerance · max(1, |b|).
///
/// The tolerance is 1e-5. The Swift updates repeat torch's Float32 operations one for one, but
/// torch's CPU sqrt, log and exp (MKL VML) are not correctly rounded, so the scalar coefficients
/// (σ, √ᾱ, λ, ...) may differ from libm's by an ulp; over a 20-step loop that stays below 1e-6.
/// The relative form matters for the Euler schedulers, whose latents start near ±40.
func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-5, _ message: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(message): count", file: file, line: line)
    guard actual.count == expected.count else { return }
    var worst: Float = 0, worstIndex = 0
    for i in 0..<actual.count {
        let error = abs(actual[i] - expected[i]) / max(1, abs(expected[i]))
        if !(error <= worst) { worst = error; worstIndex = i }
    }
    XCTAssert(worst <= tolerance,
              "\(message): worst relative error \(worst) at [\(worstIndex)]: \(actual[worstIndex]) vs \(expected[worstIndex])",
              file: file, line: line)
}
