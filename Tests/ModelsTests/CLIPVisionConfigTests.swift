import Foundation
import Models
import TestSupport
import XCTest

/// The vision encoder is built from transformers' config.json: the families PhotoVerse and
/// IP-Adapter use decode with their real sizes (ViT-L/14 for SD1.x, ViT-H/14 for IP-Adapter).
final class CLIPVisionConfigTests: XCTestCase {
    func decode(_ json: String) throws -> CLIPVisionConfig {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(CLIPVisionConfig.self, from: Data(json.utf8))
    }

    func testViTL14DefaultsAndNestedCLIPConfig() throws {
        let flat = try decode(#"{"model_type": "clip_vision_model"}"#)
        XCTAssertEqual(flat, .vitL14)
        XCTAssertEqual(flat.sequenceLength, 257)
        // A full CLIPConfig: the vision part is nested, projection_dim sits outside.
        let nested = try decode(#"{"projection_dim": 768, "vision_config": {"hidden_size": 1024, "patch_size": 14, "num_hidden_layers": 24}}"#)
        XCTAssertEqual(nested.projectionDim, 768)
        XCTAssertEqual(nested.numHiddenLayers, 24)
    }

    func testViTH14AsIPAdapterShipsIt() throws {
        // models/image_encoder/config.json of h94/IP-Adapter (CLIPVisionModelWithProjection, ViT-H/14).
        let h = try decode("""
            {"hidden_act": "gelu", "hidden_size": 1280, "image_size": 224, "intermediate_size": 5120,
             "layer_norm_eps": 1e-05, "num_attention_heads": 16, "num_channels": 3, "num_hidden_layers": 32,
             "patch_size": 14, "projection_dim": 1024}
            """)
        XCTAssertEqual(h.hiddenAct, .gelu)
        XCTAssertEqual(h.patchesPerSide, 16)
        XCTAssertEqual(h.sequenceLength, 257)
        XCTAssertEqual(h.projectionDim, 1024)
    }

    func testPatchSizeMustDivideTheImage() throws {
        // Decoding reads the values; validate(file:) (run by JSONConfig and so by every loader) refuses them.
        let config = try decode(#"{"image_size": 224, "patch_size": 15}"#)
        XCTAssertThrowsError(try config.validate(file: "image_encoder/config.json")) { error in
            XCTAssertTrue("\(error)".contains("not a multiple of patch_size 15"), "\(error)")
            XCTAssertTrue("\(error)".hasPrefix("image_encoder/config.json: key 'image_size' = 224"), "\(error)")
        }
    }
}
