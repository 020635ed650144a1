import Formats
import Foundation
import Models
import TensorCore
import TestSupport
import XCTest

/// TAESD (diffusers' AutoencoderTiny) against diffusers itself on the tiny random fixture
/// (training/fixtures/make_taesd_fixtures.py): decode and encode, F16 and F32 files, and the
/// config checks, each refusal one line naming the file and the key.
final class TinyAutoencoderTests: XCTestCase {
    /// The VAE parity bar of ModelsTests (observed here: see the README's TAESD section).
    let tolerance: Float = 1e-3
    let folder = Fixtures.url("tiny-taesd")

    func golden() throws -> SafetensorsFile { try SafetensorsFile(url: Fixtures.url("taesd-golden/golden.safetensors")) }

    func testDecodeMatchesDiffusers() throws {
        let tiny = try AutoencoderTiny.load(folder: folder)
        let g = try golden()
        let image = try tiny.decode(try g.tensor("decode_latents"))
        XCTAssertEqual(image.shape, [1, 3, 64, 64])
        let difference = image.maxAbsDifference(try g.tensor("decode_image"))
        print("TAESD decode max |diff| vs diffusers: \(difference)")
        XCTAssertLessThan(difference, tolerance)
    }

    func testEncodeMatchesDiffusers() throws {
        let tiny = try AutoencoderTiny.load(folder: folder)
        let g = try golden()
        let latents = try tiny.encode(try g.tensor("encode_image"))
        XCTAssertEqual(latents.shape, [1, 4, 8, 8])
        let difference = latents.maxAbsDifference(try g.tensor("encode_latents"))
        print("TAESD encode max |diff| vs diffusers: \(difference)")
        XCTAssertLessThan(difference, tolerance)
    }

    /// The decoder's tanh(z / 3) * 3 soft clamp matters: latents far out decode as latents at ±3 would.
    func testDecoderClampsItsInputSoftly() throws {
        let tiny = try AutoencoderTiny.load(folder: folder)
        let far = try tiny.decode(Tensor(shape: [1, 4, 2, 2], repeating: 60))
        let farther = try tiny.decode(Tensor(shape: [1, 4, 2, 2], repeating: 600))
        XCTAssertEqual(far.maxAbsDifference(farther), 0, "both saturate at 3")
        XCTAssertTrue(far.isAllFinite)
    }

    /// The same weights stored as F32 decode identically (F16 → F32 is exact).
    func testFloat32FileLoadsTheSame() throws {
        let copy = Fixtures.temporaryDirectory("taesd-f32")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: folder.appendingPathComponent("config.json"), to: copy.appendingPathComponent("config.json"))
        let file = try SafetensorsFile(url: folder.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        var tensors: [String: Tensor] = [:]
        for name in file.tensorNames { tensors[name] = try file.tensor(name) }
        try SafetensorsWriter.write(tensors, to: copy.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        let latents = try golden().tensor("decode_latents")
        let f16 = try AutoencoderTiny.load(folder: folder).decode(latents)
        let f32 = try AutoencoderTiny.load(folder: copy).decode(latents)
        XCTAssertEqual(f16.maxAbsDifference(f32), 0)
    }

    func testMissingAndMisshapedWeightsAreNamed() throws {
        let copy = Fixtures.temporaryDirectory("taesd-weights")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: folder.appendingPathComponent("config.json"), to: copy.appendingPathComponent("config.json"))
        let file = try SafetensorsFile(url: folder.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        var tensors: [String: Tensor] = [:]
        for name in file.tensorNames where name != "decoder.layers.2.conv.0.weight" { tensors[name] = try file.tensor(name) }
        tensors["decoder.layers.0.bias"] = Tensor(shape: [5])
        try SafetensorsWriter.write(tensors, to: copy.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        XCTAssertThrowsError(try AutoencoderTiny.load(folder: copy)) { error in
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), text)
            XCTAssertTrue(text.contains("missing decoder.layers.2.conv.0.weight [8, 8, 3, 3]"), text)
            XCTAssertTrue(text.contains("decoder.layers.0.bias has shape [5], expected [8]"), text)
        }
    }

    func testMissingFolderIsOneLine() {
        XCTAssertThrowsError(try AutoencoderTiny.load(folder: Fixtures.url("no-such-taesd"))) { error in
            XCTAssertTrue("\(error)".contains("no-such-taesd: no such TAESD folder"), "\(error)")
        }
    }

    // MARK: config

    func testFixtureAndPublishedConfigsPass() throws {
        let config = try ModelFolder(folder).config(TinyAutoencoderConfig.self, of: "")
        XCTAssertEqual(config.upscale, 8)
        XCTAssertEqual(config.downscale, 8)
        XCTAssertEqual(config.scalingFactor, 1)
        try TinyAutoencoderConfig.taesd.validate(file: "taesd")
        XCTAssertEqual(TinyAutoencoderConfig.taesd.upscale, 8)
    }

    /// The fixture's config.json with `changes` applied must fail naming the file and `mentions`.
    func assertRefused(_ changes: [String: Any], mentions: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("config.json"))) as! [String: Any]
        for (key, value) in changes { object[key] = value }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let path = "/models/m/taesd/config.json"
        do {
            let config = try JSONConfig.decode(TinyAutoencoderConfig.self, from: try JSONSerialization.data(withJSONObject: object),
                                               file: path, decoder: decoder)
            XCTFail("accepted \(changes): \(config)", file: file, line: line)
        } catch let error as FormatError {
            let text = error.description
            XCTAssertTrue(text.hasPrefix(path + ": "), text, file: file, line: line)
            XCTAssertFalse(text.contains("\n"), text, file: file, line: line)
            for mention in mentions { XCTAssertTrue(text.contains(mention), "\(text) should mention \(mention)", file: file, line: line) }
        }
    }

    func testBadValuesAreRefused() throws {
        try assertRefused(["_class_name": "AutoencoderKL"], mentions: ["key '_class_name' = \"AutoencoderKL\"", "must be AutoencoderTiny"])
        try assertRefused(["latent_channels": 0], mentions: ["key 'latent_channels' = 0", "1...16384"])
        try assertRefused(["in_channels": 4], mentions: ["key 'in_channels' = 4", "RGB"])
        try assertRefused(["decoder_block_out_channels": [8, 16, 8, 8]],
                          mentions: ["key 'decoder_block_out_channels' = [8, 16, 8, 8]", "same width"])
        try assertRefused(["encoder_block_out_channels": []], mentions: ["encoder_block_out_channels' = []", "needs 1...8 entries"])
        try assertRefused(["encoder_block_out_channels": [8, 8, 1 << 40, 8]], mentions: ["encoder_block_out_channels[2]' = 1099511627776"])
        try assertRefused(["num_decoder_blocks": [1, 1]], mentions: ["key 'num_decoder_blocks' = [1, 1]", "needs 4...4 entries"])
        try assertRefused(["num_encoder_blocks": [1, 1, -1, 1]], mentions: ["num_encoder_blocks[2]' = -1", "0...256"])
        try assertRefused(["act_fn": "mish"], mentions: ["key 'act_fn' = \"mish\"", "relu, silu, swish or gelu"])
        try assertRefused(["upsample_fn": "bilinear"], mentions: ["key 'upsample_fn' = \"bilinear\"", "nearest"])
        try assertRefused(["upsampling_scaling_factor": 0], mentions: ["key 'upsampling_scaling_factor' = 0", "1...16"])
        try assertRefused(["scaling_factor": 0], mentions: ["key 'scaling_factor' = 0"])
        try assertRefused(["latent_magnitude": -3], mentions: ["key 'latent_magnitude' = -3"])
        try assertRefused(["latent_channels": "four"], mentions: ["latentChannels", "expected an integer"])
    }
}
