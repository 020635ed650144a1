import Formats
import Models
import TensorCore
import TestSupport
import XCTest

/// The tiny model saved as one original-layout checkpoint gives the same outputs as the folder.
final class SingleFileCheckpointTests: XCTestCase {
    func testSingleFileMatchesDiffusersGoldens() throws {
        let folder = try ModelFolder(Fixtures.url("tiny-sd"))
        let checkpoint = try SingleFileCheckpoint(url: Fixtures.url("tiny-sd-single.safetensors"))
        let unet = try checkpoint.loadUNet(config: try folder.config(UNetConfig.self, of: "unet"))
        let g = try SafetensorsFile(url: Fixtures.url("tiny-sd-golden/unet.safetensors"))
        let out = unet(try g.tensor("sample"), timestep: try g.tensor("timestep")[0],
                       encoderHiddenStates: try g.tensor("encoder_hidden_states"))
        XCTAssertLessThan(out.maxAbsDifference(try g.tensor("output")), 1e-3)

        let vae = try checkpoint.loadVAE(config: try folder.config(VAEConfig.self, of: "vae"))
        let v = try SafetensorsFile(url: Fixtures.url("tiny-sd-golden/vae_decode.safetensors"))
        XCTAssertLessThan(vae.decode(try v.tensor("latents")).maxAbsDifference(try v.tensor("image")), 1e-3)

        let text = try checkpoint.loadTextEncoder(config: try folder.config(CLIPTextConfig.self, of: "text_encoder"))
        let t = try SafetensorsFile(url: Fixtures.url("tiny-sd-golden/text_encoder.safetensors"))
        let ids = try t.tensor("input_ids")
        let rows = (0..<ids.shape[0]).map { b in (0..<ids.shape[1]).map { Int(ids[b, $0]) } }
        XCTAssertLessThan(text(rows).maxAbsDifference(try t.tensor("last_hidden_state")), 1e-3)
    }

    func testPickledCheckpointsAreRefusedByName() {
        XCTAssertThrowsError(try SingleFileCheckpoint(url: URL(fileURLWithPath: "/tmp/model.ckpt"))) { error in
            XCTAssertTrue("\(error)".contains("/tmp/model.ckpt"))
            XCTAssertTrue("\(error)".contains("convert_checkpoint.py"))
        }
    }

    func testMissingKeysAreNamed() throws {
        let folder = try ModelFolder(Fixtures.url("tiny-sd"))
        var config = try folder.config(UNetConfig.self, of: "unet")
        config.layersPerBlock = 3  // asks for resnets the checkpoint does not have
        let checkpoint = try SingleFileCheckpoint(url: Fixtures.url("tiny-sd-single.safetensors"))
        XCTAssertThrowsError(try checkpoint.loadUNet(config: config)) { error in
            XCTAssertTrue("\(error)".contains("missing"), "\(error)")
        }
    }
}
