import Foundation
import Formats
import Pipeline
import Sampling
import TensorCore
import TestSupport
import XCTest

/// Whole generations against diffusers' StableDiffusionPipeline given the same
/// initial latents (the `--noise` contract). A random UNet is no denoiser, so final
/// latents grow to |x| ≈ 60: the tolerance is 1e-3 relative to the largest value.
final class PipelineParityTests: XCTestCase {
    struct Case: Decodable {
        let name: String
        let prompt: String
        let negativePrompt: String?
        let guidanceScale: Float
        let numInferenceSteps: Int
        let generatorSeed: UInt64?
    }

    static let pipeline = try! GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"), faces: shippedFaces)

    func cases() throws -> [Case] {
        struct File: Decodable { let pipelines: [Case] }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(File.self, from: Data(contentsOf: Fixtures.url("tiny-sd-golden/cases.json"))).pipelines
    }

    /// The sampler a golden case name starts with; nil (and the case fails by name) when none does.
    static func sampler(for name: String) -> SamplerKind? {
        for (prefix, kind) in [("dpmpp_2m_karras", SamplerKind.dpmPP2MKarras), ("euler_a", .eulerAncestral),
                               ("euler", .euler), ("ddim", .ddim), ("lcm", .lcm)] where name.hasPrefix(prefix) {
            return kind
        }
        return nil
    }

    /// Every case the fixture script makes (training/fixtures/make_sd_fixtures.py): one missing
    /// from cases.json fails by name rather than shrinking the loop.
    static let expectedCases = ["ddim_cfg", "ddim_nocfg", "euler_cfg", "euler_nocfg", "dpmpp_2m_karras_cfg",
                                "dpmpp_2m_karras_nocfg", "euler_a_cfg", "lcm_cfg"]

    /// Decoded pixels (0...1) of a whole generation: the latents may differ by 1e-3 of the largest
    /// (|x| ≈ 60 here, so up to 0.06 absolute), and the decoder divides them by 0.18215; what
    /// reaches the pixels is still far below one 8-bit level (1/255 ≈ 3.9e-3), the bar used here
    /// (observed ~1e-5).
    static let decodedPixelTolerance: Float = 1.0 / 255

    func testEveryCaseMatchesDiffusers() throws {
        let golden = try SafetensorsFile(url: Fixtures.url("tiny-sd-golden/pipelines.safetensors"))
        let all = try cases()
        for name in Self.expectedCases where !all.contains(where: { $0.name == name }) {
            XCTFail("golden case \(name) is missing from tiny-sd-golden/cases.json")
        }
        for c in all {
            guard let sampler = Self.sampler(for: c.name) else {
                XCTFail("no sampler for golden case \(c.name)")
                continue
            }
            var request = PreparedRequest(prompt: c.prompt)
            request.negativePrompt = c.negativePrompt ?? ""
            request.guidance = c.guidanceScale
            request.steps = c.numInferenceSteps
            request.sampler = sampler
            request.seed = c.generatorSeed ?? 0
            request.width = 64
            request.height = 64
            request.noise = try golden.tensor("\(c.name)_noise")
            var steps: [Tensor] = []
            let result = try Self.pipeline.generate(request) { steps.append($0.latents); return true }
            XCTAssertEqual(steps.count, c.numInferenceSteps, c.name)
            let expected = try golden.tensor("\(c.name)_latents")
            let scale = max(1, expected.scalars.map(abs).max() ?? 1)
            XCTAssertLessThan(result.latents.maxAbsDifference(expected) / scale, 1e-3, c.name)
            // every step on the way, each against the largest latent of the run
            let expectedSteps = try golden.tensor("\(c.name)_step_latents")
            XCTAssertEqual(expectedSteps.shape[0], c.numInferenceSteps, c.name)
            for (i, latents) in steps.prefix(expectedSteps.shape[0]).enumerated() {
                let step = expectedSteps.slice(axis: 0, start: i, length: 1).reshaped(latents.shape)
                XCTAssertLessThan(latents.maxAbsDifference(step) / scale, 1e-3, "\(c.name) step \(i + 1)")
            }
            // the schedule the UNet was given
            let scheduler = sampler.makeScheduler(config: Self.pipeline.schedulerConfig)
            try scheduler.setTimesteps(c.numInferenceSteps)
            XCTAssertEqual(scheduler.timesteps, try golden.tensor("\(c.name)_timesteps").scalars, "\(c.name) timesteps")
            // stochastic samplers: the noise their steps drew is the seed's stream (the initial
            // latents came from the noise tensor, so nothing was drawn before), bit for bit
            if let seed = c.generatorSeed, let stepNoise = try? golden.tensor("\(c.name)_step_noise") {
                let random = TorchRandomSource(seed: seed)
                for i in 0..<stepNoise.shape[0] {
                    let expected = stepNoise.slice(axis: 0, start: i, length: 1).reshaped([1, 4, 8, 8])
                    XCTAssertEqual(random.normalTensor(shape: [1, 4, 8, 8]).maxAbsDifference(expected), 0, "\(c.name) step noise \(i)")
                }
            }
            if c.name == "ddim_cfg" {
                // golden: diffusers' output_type='pt', (decode / 2 + 0.5).clamp(0, 1), as the pipeline's image
                let difference = result.image.maxAbsDifference(try golden.tensor("ddim_cfg_image"))
                XCTAssertLessThan(difference, Self.decodedPixelTolerance, "decoded image")
                print("ddim_cfg: decoded pixels within \(difference)")
            }
        }
    }

    func testNegativePromptTokenIDs() throws {
        let golden = try SafetensorsFile(url: Fixtures.url("tiny-sd-golden/pipelines.safetensors"))
        XCTAssertEqual(Self.pipeline.tokenizer.tokenize("blurry, low quality").map(Float.init),
                       try golden.tensor("negative_prompt_input_ids").scalars)
    }

    struct Img2ImgCase: Decodable {
        let name: String, scheduler: String, steps: Int, strength: Double, guidance: Float?, seed: UInt64
        let prompt: String, negativePrompt: String, timesteps: [Float], latents: String, image: String?, initImage: String?
    }

    static func img2imgCases() throws -> [Img2ImgCase] {
        struct File: Decodable { let cases: [Img2ImgCase] }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(File.self, from: Data(contentsOf: Fixtures.url("img2img-golden/cases.json"))).cases
    }

    static let expectedImg2ImgCases = ["plain_ddim", "plain_euler", "plain_dpmpp_2m_karras_unguided"]

    /// img2img through the request path (a start image file, a strength, a seed) against diffusers'
    /// StableDiffusionImg2ImgPipeline with the same seed: the seed's stream samples the image's
    /// posterior, then draws the noise (img2img-golden, make_img2img_fixtures.py).
    func testImg2ImgMatchesDiffusersFromTheSeed() throws {
        let golden = try SafetensorsFile(url: Fixtures.url("img2img-golden/golden.safetensors"))
        let all = try Self.img2imgCases().filter { $0.initImage != nil }
        for name in Self.expectedImg2ImgCases where !all.contains(where: { $0.name == name }) {
            XCTFail("img2img case \(name) is missing from img2img-golden/cases.json")
        }
        for c in all {
            guard let sampler = SamplerKind(rawValue: c.scheduler) else {
                XCTFail("no sampler for img2img case \(c.name) (\(c.scheduler))")
                continue
            }
            var request = GenerationRequest(prompt: c.prompt)
            request.negativePrompt = c.negativePrompt
            request.steps = c.steps
            request.sampler = sampler
            request.guidance = c.guidance ?? 7.5
            request.seed = c.seed
            request.width = 64
            request.height = 64
            request.initImage = Fixtures.url("img2img-golden/\(c.initImage!)").path
            request.strength = c.strength
            var steps = 0
            let result = try Self.pipeline.generate(request) { _ in steps += 1; return true }
            XCTAssertEqual(steps, c.timesteps.count, "\(c.name): steps at strength \(c.strength) of \(c.steps)")
            let expected = try golden.tensor(c.latents)
            let scale = max(1, expected.scalars.map(abs).max() ?? 1)
            let difference = result.latents.maxAbsDifference(expected) / scale
            XCTAssertLessThan(difference, 1e-3, c.name)
            if let image = c.image {
                let pixels = result.image.maxAbsDifference(try golden.tensor(image))
                XCTAssertLessThan(pixels, Self.decodedPixelTolerance, "\(c.name): decoded image")
                print("\(c.name): latents within \(difference) of the largest, pixels within \(pixels)")
            }
            let scheduler = sampler.makeScheduler(config: Self.pipeline.schedulerConfig)
            try scheduler.setTimesteps(c.steps)
            XCTAssertEqual(try scheduler.img2imgSchedule(strength: c.strength).timesteps, c.timesteps, "\(c.name) timesteps")
        }
    }

    func testCancellationStopsBetweenSteps() throws {
        var request = PreparedRequest(prompt: "a cat")
        request.width = 64
        request.height = 64
        request.steps = 10
        var seen = 0
        XCTAssertThrowsError(try Self.pipeline.generate(request) { _ in seen += 1; return seen < 3 })
        XCTAssertEqual(seen, 3)
    }

    func testSameSeedSameLatentsDifferentSeedDifferent() throws {
        var request = PreparedRequest(prompt: "a cat")
        request.width = 64
        request.height = 64
        request.steps = 3
        request.seed = 7
        let a = try Self.pipeline.generate(request).latents
        let b = try Self.pipeline.generate(request).latents
        request.seed = 8
        let c = try Self.pipeline.generate(request).latents
        XCTAssertEqual(a.maxAbsDifference(b), 0)
        XCTAssertGreaterThan(a.maxAbsDifference(c), 1e-3)
    }
}

final class PipelineBehaviourTests: XCTestCase {
    var pipeline: GenerationPipeline { PipelineParityTests.pipeline }

    func testImg2ImgRunsThePartialScheduleAndStaysNearTheImageAtLowStrength() throws {
        let image = Tensor.seededUniform(shape: [1, 3, 64, 64], seed: 3, scale: 0.8)
        var request = PreparedRequest(prompt: "a cat")
        request.width = 64
        request.height = 64
        request.steps = 10
        request.guidance = 1
        request.initImage = image
        var counts: [Double: Int] = [:]
        var results: [Double: Tensor] = [:]
        for strength in [0.2, 0.9] {
            request.strength = strength
            var steps = 0
            results[strength] = try pipeline.generate(request) { _ in steps += 1; return true }.latents
            counts[strength] = steps
        }
        XCTAssertEqual(counts[0.2], 2)
        XCTAssertEqual(counts[0.9], 9)
        let encoded = pipeline.vae.encode(image).mean * pipeline.vae.config.scalingFactor
        XCTAssertLessThan(results[0.2]!.maxAbsDifference(encoded), results[0.9]!.maxAbsDifference(encoded))
    }

    /// The preview shows x₀, the step's estimate of the finished picture: decoded by a small VAE
    /// (here the tiny model's) at full size, converging on the result.
    func testPreviewIsTheDecodedPredictedCleanImage() throws {
        var request = PreparedRequest(prompt: "a cat")
        request.width = 64
        request.height = 64
        request.steps = 3
        var previews: [Tensor] = []
        let result = try pipeline.generate(request) { previews.append($0.preview!); return true }
        XCTAssertEqual(previews.count, 3)
        XCTAssertEqual(previews[0].shape, [1, 3, 64, 64])
        XCTAssertTrue(previews[0].scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertGreaterThan(previews[0].maxAbsDifference(previews[1]), 0)
        // Each x₀ is closer to the finished image than the one before: the preview converges on the result.
        let distances = previews.map { $0.maxAbsDifference(result.image) }
        XCTAssertLessThan(distances[2], distances[0], "\(distances)")
        XCTAssertLessThan(distances[2], 0.05, "the last x₀ is nearly the result: \(distances)")
    }

    func testLargeImagesGetTheLatentProjectionOfX0() throws {
        var request = PreparedRequest(prompt: "a cat")
        request.width = 512
        request.height = 512
        request.steps = 1
        var preview: Tensor?
        _ = try pipeline.generate(request) { preview = $0.preview; return true }
        XCTAssertEqual(preview?.shape, [1, 3, 64, 64], "at latent resolution")
    }
}
