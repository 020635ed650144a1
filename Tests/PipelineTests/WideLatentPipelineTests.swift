import Foundation
import Formats
@testable import Pipeline
import TensorCore
import TestSupport
import XCTest

/// A model whose latents have 8 channels (PhotoVerse-mini v2's layout) against diffusers
/// (training/fixtures/make_wide_latent_fixtures.py): a whole guided generation, the VAE's
/// encoder, and the previews of a model that has no latent colour map.
final class WideLatentPipelineTests: XCTestCase {
    static let pipeline = try! GenerationPipeline(modelFolder: Fixtures.url("tiny-sd-8ch"), faces: shippedFaces)
    static let golden = try! SafetensorsFile(url: Fixtures.url("tiny-sd-8ch-golden/golden.safetensors"))

    struct Run: Decodable {
        let prompt: String, negativePrompt: String, steps: Int, guidanceScale: Float, size: Int
    }

    static let run: Run = {
        struct Doc: Decodable { let pipeline: Run }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(Doc.self, from: Data(contentsOf: Fixtures.url("tiny-sd-8ch-golden/cases.json"))).pipeline
    }()

    func request(preview: PreviewDecoder = .none) throws -> PreparedRequest {
        var request = PreparedRequest(prompt: Self.run.prompt)
        request.negativePrompt = Self.run.negativePrompt
        request.steps = Self.run.steps
        request.guidance = Self.run.guidanceScale
        request.sampler = .ddim
        request.width = Self.run.size
        request.height = Self.run.size
        request.noise = try Self.golden.tensor("noise")
        request.preview = preview
        return request
    }

    func testAGuidedGenerationMatchesDiffusers() throws {
        XCTAssertEqual(Self.pipeline.unet.config.inChannels, 8)
        var steps: [Tensor] = []
        let result = try Self.pipeline.generate(try request()) { steps.append($0.latents); return true }
        let expected = try Self.golden.tensor("latents")
        XCTAssertEqual(result.latents.shape, [1, 8, 8, 8])
        let scale = max(1, expected.scalars.map(abs).max() ?? 1)
        XCTAssertLessThan(result.latents.maxAbsDifference(expected) / scale, 1e-3)
        let expectedSteps = try Self.golden.tensor("step_latents")
        XCTAssertEqual(steps.count, expectedSteps.shape[0])
        for (i, latents) in steps.enumerated() {
            let step = expectedSteps.slice(axis: 0, start: i, length: 1).reshaped(latents.shape)
            XCTAssertLessThan(latents.maxAbsDifference(step) / scale, 1e-3, "step \(i + 1)")
        }
        XCTAssertLessThan(result.image.maxAbsDifference(try Self.golden.tensor("image")), PipelineParityTests.decodedPixelTolerance)
    }

    func testTheEncoderMatchesDiffusers() throws {
        let (mean, logVariance) = try Self.pipeline.vae.encode(try Self.golden.tensor("encode_image"))
        for (got, name) in [(mean, "encode_mean"), (logVariance, "encode_logvar")] {
            let expected = try Self.golden.tensor(name)
            XCTAssertEqual(got.shape, [1, 8, 8, 8], name)
            XCTAssertLessThan(got.maxAbsDifference(expected) / max(1, expected.scalars.map(abs).max() ?? 1), 1e-4, name)
        }
    }

    /// No colour map for 8 channels (the fixture has no vae/latent_preview.json): the automatic
    /// preview decodes x₀ with the VAE, and asking for the latent projection is refused before any step.
    func testWithoutAColourMapPreviewsUseTheVAEAndLatentIsRefused() throws {
        XCTAssertNil(Self.pipeline.latentPreview)
        var shown: [(Tensor, Tensor)] = []
        _ = try Self.pipeline.generate(try request(preview: .auto)) { shown.append(($0.preview!, $0.predictedClean)); return true }
        XCTAssertEqual(shown.count, Self.run.steps)
        let vae = Self.pipeline.vae
        for (preview, clean) in shown {
            XCTAssertEqual(preview.shape, [1, 3, 64, 64])
            let decoded = vae.decode(clean / vae.config.scalingFactor).map { min(max($0 / 2 + 0.5, 0), 1) }
            XCTAssertEqual(preview.maxAbsDifference(decoded), 0)
        }
        var steps = 0
        XCTAssertThrowsError(try Self.pipeline.generate(try request(preview: .latent)) { _ in steps += 1; return true }) { error in
            XCTAssertTrue("\(error)".hasPrefix("--preview latent: this model's 8-channel latents have no colour map"), "\(error)")
        }
        XCTAssertEqual(steps, 0)
        // where a model with a map would switch to it (a large image), one without keeps the VAE
        let large = try XCTUnwrap(Self.pipeline.previewMaker(.auto, width: 512, height: 512))
        let clean = Tensor(shape: [1, 8, 8, 8], values: (0..<512).map { Float(($0 * 37) % 17) / 8 - 1 })
        XCTAssertEqual(large(clean).maxAbsDifference(vae.decode(clean / vae.config.scalingFactor).map { min(max($0 / 2 + 0.5, 0), 1) }), 0)
    }
}
