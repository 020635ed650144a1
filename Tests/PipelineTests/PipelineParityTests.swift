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

    static let pipeline = try! GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"))

    func cases() throws -> [Case] {
        struct File: Decodable { let pipelines: [Case] }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(File.self, from: Data(contentsOf: Fixtures.url("tiny-sd-golden/cases.json"))).pipelines
    }

    func sampler(for name: String) throws -> SamplerKind {
        for (prefix, kind) in [("dpmpp_2m_karras", SamplerKind.dpmPP2MKarras), ("euler_a", .eulerAncestral),
                               ("euler", .euler), ("ddim", .ddim), ("lcm", .lcm)] where name.hasPrefix(prefix) {
            return kind
        }
        throw XCTSkip("no sampler for case \(name)")
    }

    func testEveryCaseMatchesDiffusers() throws {
        let golden = try SafetensorsFile(url: Fixtures.url("tiny-sd-golden/pipelines.safetensors"))
        let all = try cases()
        XCTAssertGreaterThanOrEqual(all.count, 8)
        for c in all {
            var request = PreparedRequest(prompt: c.prompt)
            request.negativePrompt = c.negativePrompt ?? ""
            request.guidance = c.guidanceScale
            request.steps = c.numInferenceSteps
            request.sampler = try sampler(for: c.name)
            request.seed = c.generatorSeed ?? 0
            request.width = 64
            request.height = 64
            request.noise = try golden.tensor("\(c.name)_noise")
            var steps = 0
            let result = try Self.pipeline.generate(request) { _ in steps += 1; return true }
            XCTAssertEqual(steps, c.numInferenceSteps, c.name)
            let expected = try golden.tensor("\(c.name)_latents")
            let scale = max(1, expected.scalars.map(abs).max() ?? 1)
            XCTAssertLessThan(result.latents.maxAbsDifference(expected) / scale, 1e-3, c.name)
            if c.name == "ddim_cfg" {
                XCTAssertLessThan(result.image.maxAbsDifference(try golden.tensor("ddim_cfg_image")), 1e-2, "decoded image")
            }
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
        let result = try pipeline.generate(request) { previews.append($0.preview); return true }
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
