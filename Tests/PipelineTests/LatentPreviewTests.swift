import Foundation
import Formats
import Pipeline
import TensorCore
import TestSupport
import XCTest

/// The latent preview's colour map: a model's own `vae/latent_preview.json`, SD's for 4-channel
/// latents without one, none otherwise; bad files refused in one line that names file and key.
final class LatentPreviewTests: XCTestCase {
    func write(_ json: String) throws -> URL {
        let folder = Fixtures.temporaryDirectory("latent-preview")
        try Data(json.utf8).write(to: folder.appendingPathComponent(LatentPreview.fileName))
        return folder
    }

    func testProjectsEachPixelByFactorsPlusBiasIntoZeroOne() {
        let map = LatentPreview(factors: [[1, 0, -1], [0.5, 0.5, 0.5]], bias: [0.1, -0.2, 0])
        // channel 0 holds 0.2, -0.4, -3 and channel 1 holds 0.6, 1, 0 (three pixels)
        let rgb = map.project(Tensor(shape: [1, 2, 1, 3], values: [0.2, -0.4, -3, 0.6, 1, 0]))
        XCTAssertEqual(rgb.shape, [1, 3, 1, 3])
        let expected: [Float] = [0.8, 0.6, 0,        // r = c0 + c1/2 + 0.1, then (x + 1) / 2: -2.9 clamps to 0
                                 0.55, 0.65, 0.4,    // g = c1/2 - 0.2
                                 0.55, 0.95, 1]      // b = -c0 + c1/2: 3 clamps to 1
        for (got, want) in zip(rgb.scalars, expected) { XCTAssertEqual(got, want, accuracy: 1e-6) }
    }

    func testWithoutAFileFourChannelsGetSDsMapAndOthersNone() throws {
        let empty = Fixtures.temporaryDirectory("latent-preview")
        XCTAssertEqual(try LatentPreview.forModel(vaeFolder: empty, latentChannels: 4), .stableDiffusion)
        XCTAssertNil(try LatentPreview.forModel(vaeFolder: empty, latentChannels: 8))
    }

    func testReadsTheModelsOwnMap() throws {
        let rows = (0..<8).map { "[\($0), 0.5, -0.25]" }.joined(separator: ", ")
        let folder = try write(#"{"latent_rgb_factors": [\#(rows)], "latent_rgb_factors_bias": [0.1, 0.2, 0.3], "fitted_on": "x"}"#)
        let map = try XCTUnwrap(LatentPreview.forModel(vaeFolder: folder, latentChannels: 8))
        XCTAssertEqual(map.factors.count, 8)
        XCTAssertEqual(map.factors[3], [3, 0.5, -0.25])
        XCTAssertEqual(map.bias, [0.1, 0.2, 0.3])
        let noBias = try write(#"{"latent_rgb_factors": [[1, 2, 3]]}"#)
        XCTAssertEqual(try LatentPreview.forModel(vaeFolder: noBias, latentChannels: 1)?.bias, [0, 0, 0])
    }

    func testBadFilesAreRefusedNamingFileAndKey() throws {
        let four = "[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]"
        let cases: [(String, String)] = [
            ("{not json", "not valid JSON"),
            (#"{"latent_rgb_factors_bias": [0, 0, 0]}"#, "key 'latent_rgb_factors' missing"),
            (#"{"latent_rgb_factors": [[1, 0, 0], [0, 1, 0]]}"#, "latent_rgb_factors has 2 rows; the VAE has 4 latent channels"),
            (#"{"latent_rgb_factors": [[1, 0, 0], [0, 1], [0, 0, 1], [1, 1, 1]]}"#, "latent_rgb_factors[1] has 2 values, expected 3"),
            (#"{"latent_rgb_factors": [\#(four)], "latent_rgb_factors_bias": [0, 0]}"#, "latent_rgb_factors_bias has 2 values"),
            (#"{"latent_rgb_factors": [[1, 0, 0], [0, 1e30, 0], [0, 0, 1], [1, 1, 1]]}"#, "latent_rgb_factors[1] holds"),
            (#"{"latent_rgb_factors": []}"#, "latent_rgb_factors is empty"),
            (#"{"latent_rgb_factors": "red"}"#, "key 'latent_rgb_factors' has the wrong type"),
        ]
        for (json, mention) in cases {
            let folder = try write(json)
            XCTAssertThrowsError(try LatentPreview.forModel(vaeFolder: folder, latentChannels: 4), json) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(mention), "\(json): \(message)")
                XCTAssertTrue(message.contains(LatentPreview.fileName), "names the file: \(message)")
                XCTAssertFalse(message.contains("\n"), "one line: \(message)")
            }
        }
    }

    /// A model folder's map reaches the step previews; a bad one stops the model from loading.
    func testThePipelineUsesTheModelsMapAndRefusesABadOne() throws {
        let model = Fixtures.temporaryDirectory("latent-preview-model"), manager = FileManager.default
        for part in ["model_index.json", "scheduler", "text_encoder", "tokenizer", "unet"] {
            try manager.createSymbolicLink(at: model.appendingPathComponent(part),
                                           withDestinationURL: Fixtures.url("tiny-sd/\(part)").resolvingSymlinksInPath())
        }
        try manager.copyItem(at: Fixtures.url("tiny-sd/vae"), to: model.appendingPathComponent("vae"))   // gets the map
        let map = LatentPreview(factors: [[0.9, 0, 0], [0, -0.7, 0], [0, 0, 0.5], [0.2, 0.2, 0.2]], bias: [0.3, 0, -0.3])
        let json = #"{"latent_rgb_factors": \#(map.factors), "latent_rgb_factors_bias": \#(map.bias)}"#
        let file = model.appendingPathComponent("vae/\(LatentPreview.fileName)")
        try Data(json.utf8).write(to: file)
        let pipeline = try GenerationPipeline(modelFolder: model, faces: shippedFaces)
        XCTAssertEqual(pipeline.latentPreview, map)

        var request = GenerationRequest(prompt: "a fox")
        request.width = 64
        request.height = 64
        request.steps = 2
        request.preview = .latent
        var shown: [(Tensor, Tensor)] = []
        _ = try pipeline.generate(request) { shown.append(($0.preview!, $0.predictedClean)); return true }
        XCTAssertEqual(shown.count, 2)
        for (preview, clean) in shown {
            XCTAssertEqual(preview.maxAbsDifference(map.project(clean)), 0)
            XCTAssertGreaterThan(preview.maxAbsDifference(LatentPreview.stableDiffusion.project(clean)), 1e-3, "not SD's map")
        }

        try Data(#"{"latent_rgb_factors": [[1, 0, 0]]}"#.utf8).write(to: file)
        XCTAssertThrowsError(try GenerationPipeline(modelFolder: model, faces: shippedFaces)) { error in
            XCTAssertTrue("\(error)".contains("\(LatentPreview.fileName): latent_rgb_factors has 1 rows; the VAE has 4"), "\(error)")
        }
    }

    /// The embedded model ships its own map (fitted to its latent space: training/photoverse_train/latent_preview.py).
    func testTheEmbeddedModelShipsItsOwnMap() throws {
        let vae = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Models/mini/vae")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: vae.appendingPathComponent("config.json"))) as? [String: Any]
        let channels = try XCTUnwrap(config?["latent_channels"] as? Int)
        let map = try XCTUnwrap(LatentPreview.forModel(vaeFolder: vae, latentChannels: channels))
        XCTAssertTrue(FileManager.default.fileExists(atPath: vae.appendingPathComponent(LatentPreview.fileName).path))
        XCTAssertNotEqual(map, .stableDiffusion)
    }
}
