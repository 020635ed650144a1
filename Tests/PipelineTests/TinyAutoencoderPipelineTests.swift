import Foundation
import Formats
import Models
import Pipeline
import Sampling
import TensorCore
import TestSupport
import XCTest

/// A whole generation decoded by TAESD, and its x₀ previews, against diffusers'
/// StableDiffusionPipeline(vae=AutoencoderTiny) on the tiny model (training/fixtures/make_taesd_fixtures.py).
final class TinyAutoencoderPipelineTests: XCTestCase {
    static let pipeline: GenerationPipeline = {
        let pipeline = try! GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"), faces: shippedFaces)
        try! pipeline.useTinyAutoencoder(folder: Fixtures.url("tiny-taesd"))
        return pipeline
    }()

    /// The tiny model without a TAESD handed in (the pipeline never looks for one itself).
    static let plain = try! GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"), faces: shippedFaces)

    struct Golden {
        let file = try! SafetensorsFile(url: Fixtures.url("taesd-golden/golden.safetensors"))
        struct Doc: Decodable {
            struct Run: Decodable {
                let prompt: String, negativePrompt: String, steps: Int, guidance: Float, size: Int, previewSteps: [Int]
            }
            let pipeline: Run
        }
        let run: Doc.Run = {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try! decoder.decode(Doc.self, from: Data(contentsOf: Fixtures.url("taesd-golden/cases.json"))).pipeline
        }()

        func request(decoder: FinalDecoder = .taesd, preview: PreviewDecoder = .taesd) throws -> PreparedRequest {
            var request = PreparedRequest(prompt: run.prompt)
            request.negativePrompt = run.negativePrompt
            request.steps = run.steps
            request.guidance = run.guidance
            request.sampler = .ddim
            request.width = run.size
            request.height = run.size
            request.noise = try file.tensor("ddim_noise")
            request.decoder = decoder
            request.preview = preview
            return request
        }
    }

    /// Latents as PipelineParityTests holds them (1e-3 of the largest); pixels within one 8-bit level.
    func testGenerationDecodedByTAESDMatchesDiffusers() throws {
        let golden = Golden()
        var previews: [Int: Tensor] = [:]
        let result = try Self.pipeline.generate(try golden.request()) { step in
            if golden.run.previewSteps.contains(step.step) { previews[step.step] = step.preview }
            return true
        }
        let expected = try golden.file.tensor("ddim_latents")
        let scale = max(1, expected.scalars.map(abs).max() ?? 1)
        let latentDifference = result.latents.maxAbsDifference(expected) / scale
        let imageDifference = result.image.maxAbsDifference(try golden.file.tensor("ddim_image"))
        print("TAESD generation: latents max |diff| / max |x| \(latentDifference), image max |diff| \(imageDifference)")
        XCTAssertLessThan(latentDifference, 1e-3)
        XCTAssertLessThan(imageDifference, 1.0 / 255)

        let expectedPreviews = try golden.file.tensor("ddim_previews")
        for (index, step) in golden.run.previewSteps.enumerated() {
            let preview = try XCTUnwrap(previews[step], "no preview at step \(step)")
            let want = expectedPreviews.slice(axis: 0, start: index, length: 1)
            XCTAssertEqual(preview.shape, [1, 3, 64, 64])
            let difference = preview.maxAbsDifference(want)
            print("TAESD preview of x0 at step \(step): max |diff| \(difference)")
            XCTAssertLessThan(difference, 1.0 / 255, "step \(step)")
        }
    }

    /// `auto` uses TAESD when one is loaded; `latent`, `vae` and `none` do what they say; the final
    /// decoder `full` is still the VAE (the same latents, another picture).
    func testPreviewChoices() throws {
        let golden = Golden()
        func previews(_ kind: PreviewDecoder, on pipeline: GenerationPipeline = TinyAutoencoderPipelineTests.pipeline) throws -> [Tensor?] {
            var shown: [Tensor?] = []
            var request = try golden.request(decoder: .full, preview: kind)
            request.steps = 2
            _ = try pipeline.generate(request) { shown.append($0.preview); return true }
            return shown
        }
        let byTAESD = try previews(.taesd), auto = try previews(.auto)
        XCTAssertEqual(byTAESD.count, 2)
        XCTAssertEqual(try XCTUnwrap(auto[1]).maxAbsDifference(try XCTUnwrap(byTAESD[1])), 0, "auto = TAESD when loaded")
        XCTAssertEqual(try previews(.latent)[1]?.shape, [1, 3, 8, 8], "the projection is at latent resolution")
        let byVAE = try XCTUnwrap(try previews(.vae)[1])
        XCTAssertEqual(byVAE.shape, [1, 3, 64, 64])
        XCTAssertGreaterThan(byVAE.maxAbsDifference(try XCTUnwrap(byTAESD[1])), 1e-3, "the VAE and TAESD draw different pictures")
        XCTAssertEqual(try XCTUnwrap(try previews(.auto, on: Self.plain)[1]).maxAbsDifference(byVAE), 0,
                       "without TAESD, auto falls back to the small VAE")
        XCTAssertTrue(try previews(.none).allSatisfy { $0 == nil })

        let full = try Self.pipeline.generate(try golden.request(decoder: .full, preview: .none))
        let tiny = try Self.pipeline.generate(try golden.request(decoder: .taesd, preview: .none))
        XCTAssertEqual(full.latents.maxAbsDifference(tiny.latents), 0, "the decoder does not change the latents")
        let vaeImage = Self.pipeline.vae.decode(full.latents / Self.pipeline.vae.config.scalingFactor).map { min(max($0 / 2 + 0.5, 0), 1) }
        XCTAssertEqual(full.image.maxAbsDifference(vaeImage), 0, "decoder full is the model's VAE")
        XCTAssertGreaterThan(full.image.maxAbsDifference(tiny.image), 1e-3)
    }

    func testAskingForTAESDWithoutOneIsRefusedBeforeAnyWork() throws {
        var request = GenerationRequest(prompt: "a fox")
        request.width = 64
        request.height = 64
        request.steps = 2
        for (decoder, preview, flag) in [(FinalDecoder.taesd, PreviewDecoder.auto, "--decoder taesd"), (.full, .taesd, "--preview taesd")] {
            request.decoder = decoder
            request.preview = preview
            var steps = 0
            XCTAssertThrowsError(try Self.plain.generate(request) { _ in steps += 1; return true }) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(flag): no TAESD is loaded"), "\(error)")
                XCTAssertTrue("\(error)".contains("give --taesd FOLDER"), "\(error)")
            }
            XCTAssertEqual(steps, 0)
        }
    }

    /// A TAESD for other latents (channels or pixels per latent) is refused by what it is.
    func testIncompatibleTAESDIsRefused() throws {
        let folder = Fixtures.temporaryDirectory("taesd-other")
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = Fixtures.url("tiny-taesd")
        try FileManager.default.copyItem(at: source.appendingPathComponent("diffusion_pytorch_model.safetensors"),
                                         to: folder.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        let base = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as! [String: Any]
        for (change, mention) in [(("latent_channels", 16), "TAESD latent_channels 16 does not match the model's 4"),
                                  (("upsampling_scaling_factor", 4), "this TAESD decodes 64 pixels per latent, the model's VAE 8")] {
            var object = base
            object[change.0] = change.1
            try JSONSerialization.data(withJSONObject: object).write(to: folder.appendingPathComponent("config.json"))
            let pipeline = try GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"), faces: shippedFaces)
            XCTAssertThrowsError(try pipeline.useTinyAutoencoder(folder: folder)) { error in
                XCTAssertTrue("\(error)".hasPrefix(folder.appendingPathComponent("config.json").path + ": "), "\(error)")
                XCTAssertTrue("\(error)".contains(mention), "\(error)")
            }
            XCTAssertNil(pipeline.tinyAutoencoder)
        }
    }

    /// Records of earlier versions (no decoder, preview or taesd) still load, with the defaults;
    /// new ones carry them.
    func testRecordsOldAndNew() throws {
        let old = #"{"prompt": "a fox", "steps": 3, "model": "m"}"#
        let loaded = try JSONDecoder().decode(GenerationRequest.self, from: Data(old.utf8))
        XCTAssertEqual(loaded.decoder, .full)
        XCTAssertEqual(loaded.preview, .auto)
        XCTAssertNil(loaded.taesd)
        var request = GenerationRequest(prompt: "a fox")
        request.decoder = .taesd
        request.preview = .latent
        request.taesd = "/models/sd15/taesd"
        let again = try JSONDecoder().decode(GenerationRequest.self, from: JSONEncoder().encode(request))
        XCTAssertEqual(again, request)
    }
}
