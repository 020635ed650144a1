import Formats
import Models
import TensorCore
import TestSupport
import XCTest

/// Parity with diffusers/transformers on the tiny random-weight SD model
/// (training/fixtures/make_sd_fixtures.py). Weights are fp16-rounded, goldens are
/// fp32, so the only differences are float summation order: 1e-3 max abs
/// (outputs are O(1); observed differences are ~1e-5).
final class ModelsParityTests: XCTestCase {
    let tolerance: Float = 1e-3
    lazy var folder = try! ModelFolder(Fixtures.url("tiny-sd"))

    func golden(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(url: Fixtures.url("tiny-sd-golden/\(name).safetensors"))
    }

    func testTextEncoderMatchesTransformers() throws {
        let model = try folder.loadTextEncoder()
        let g = try golden("text_encoder")
        let ids = try g.tensor("input_ids")
        let rows = (0..<ids.shape[0]).map { b in (0..<ids.shape[1]).map { Int(ids[b, $0]) } }
        let out = model(rows)
        XCTAssertLessThan(out.maxAbsDifference(try g.tensor("last_hidden_state")), tolerance)
    }

    /// transformers 5 saves a bare CLIPTextModel without the `text_model.` level: the same
    /// weights load either way and give the same states.
    func testTextEncoderSavedWithoutItsTopLevelLoads() throws {
        let source = Fixtures.url("tiny-sd")
        let copy = Fixtures.temporaryDirectory("bare-text-encoder")
        defer { try? FileManager.default.removeItem(at: copy) }
        let manager = FileManager.default
        try manager.createDirectory(at: copy.appendingPathComponent("text_encoder"), withIntermediateDirectories: true)
        try manager.copyItem(at: source.appendingPathComponent("text_encoder/config.json"),
                             to: copy.appendingPathComponent("text_encoder/config.json"))
        let file = try SafetensorsFile(url: source.appendingPathComponent("text_encoder/model.safetensors"))
        var bare: [String: Tensor] = [:]
        for name in file.tensorNames {
            XCTAssertTrue(name.hasPrefix("text_model."), name)
            bare[String(name.dropFirst("text_model.".count))] = try file.tensor(name)
        }
        try SafetensorsWriter.write(bare, to: copy.appendingPathComponent("text_encoder/model.safetensors"))
        let ids = [[49406, 320, 1125, 539, 49407] + Array(repeating: 49407, count: 72)]
        let loaded = try ModelFolder(copy).loadTextEncoder()
        XCTAssertEqual(loaded(ids).scalars, try folder.loadTextEncoder()(ids).scalars)
    }

    func testUNetMatchesDiffusers() throws {
        let unet = try folder.loadUNet()
        let g = try golden("unet")
        for (timestep, output) in [("timestep", "output"), ("timestep_2", "output_2")] {
            let out = unet(try g.tensor("sample"), timestep: try g.tensor(timestep)[0],
                           encoderHiddenStates: try g.tensor("encoder_hidden_states"))
            XCTAssertLessThan(out.maxAbsDifference(try g.tensor(output)), tolerance, output)
        }
    }

    /// 5x7 latents (40x56 pixels): sides that halve to odd sizes on the way down, so each up
    /// block upsamples to the size of the skip it meets next, as diffusers does.
    func testUNetMatchesDiffusersOnOddLatentSides() throws {
        let unet = try folder.loadUNet()
        let g = try golden("unet")
        let out = unet(try g.tensor("sample_odd"), timestep: 981, encoderHiddenStates: try g.tensor("encoder_hidden_states"))
        XCTAssertEqual(out.shape, [2, 4, 5, 7])
        XCTAssertLessThan(out.maxAbsDifference(try g.tensor("output_odd")), tolerance)
    }

    func testVAEDecodeMatchesDiffusers() throws {
        let vae = try folder.loadVAE()
        let g = try golden("vae_decode")
        XCTAssertLessThan(vae.decode(try g.tensor("latents")).maxAbsDifference(try g.tensor("image")), tolerance)
    }

    func testVAEEncodeMatchesDiffusers() throws {
        let vae = try folder.loadVAE()
        let g = try golden("vae_encode")
        let (mean, logVariance) = vae.encode(try g.tensor("image"))
        XCTAssertLessThan(mean.maxAbsDifference(try g.tensor("mean")), tolerance)
        XCTAssertLessThan(logVariance.maxAbsDifference(try g.tensor("logvar")), tolerance)
    }

    func testMisShapedAndMissingWeightsAreNamed() throws {
        var config = try folder.config(UNetConfig.self, of: "unet")
        config.crossAttentionDim = 48  // the stored attn2 to_k/to_v are [.., 32]
        let loader = WeightLoader(source: try folder.weights(of: "unet"))
        _ = try UNet2DConditionModel(config: config, weights: loader.root)
        XCTAssertThrowsError(try loader.finish()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("attn2.to_k.weight has shape [256, 32], expected [256, 48]")
                          || text.contains("attn2.to_k.weight"), text)
            XCTAssertFalse(text.contains("\n"))
        }
    }
}
