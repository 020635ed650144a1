import Foundation
import TestSupport
import XCTest

/// `photoverse inspect` on weights that are not a model folder: each kind named, with what it
/// needs alongside (README "Use your own weights"; the README's own commands run in
/// training/tests/test_readme_own_weights.py).
final class InspectKindsTests: XCTestCase {
    func testEachKindIsNamedWithWhatItNeeds() throws {
        let dir = Fixtures.temporaryDirectory("cli-inspect-kinds")
        let cases: [(path: String, kind: String, needs: String)] = [
            ("face-geometry/arcface-tiny", "ArcFace (insightface IResNet, 64-d embedding)", "face detector"),
            ("tiny-taesd", "TAESD tiny autoencoder", "4 latent channels"),
            ("photoverse-golden/ip_image_encoder", "CLIP image encoder (CLIPVisionModelWithProjection, width 32", "preprocessor_config.json (here)"),
            ("tiny-sd-single.safetensors", "SD1.x single-file checkpoint", "--config DIR"),
            // A PhotoVerse adapter carries LoRA factors too, but is no LoRA file.
            ("photoverse-golden/adapter.safetensors", "PhotoVerse adapter (branches text,image", "image encoder"),
            ("photoverse-golden/elite_converted.safetensors", "PhotoVerse adapter (branches text, from ELITE", "--reference"),
        ]
        for item in cases {
            let run = try PhotoverseBinary.run(["inspect", Fixtures.url(item.path).path], in: dir)
            XCTAssertEqual(run.status, 0, "\(item.path): \(run.stderr)")
            XCTAssertTrue(run.stdout.contains(item.kind), "\(item.path): \(run.stdout)")
            XCTAssertTrue(run.stdout.contains(item.needs), "\(item.path): \(run.stdout)")
            XCTAssertFalse(run.stdout.contains("LoRA, "), "\(item.path): \(run.stdout)")
        }
    }

    func testFilesToConvertFirstAreNamedWithTheirConverterAndExitOne() throws {
        let dir = Fixtures.temporaryDirectory("cli-inspect-convert")
        for (name, script) in [("ip-adapter_sd15.bin", "convert_checkpoint.py"), ("model.ckpt", "convert_checkpoint.py"),
                               ("backbone.pth", "convert_arcface.py"), ("w600k_r50.onnx", "convert_arcface.py")] {
            let file = dir.appendingPathComponent(name)
            try Data("not opened".utf8).write(to: file)
            let run = try PhotoverseBinary.run(["inspect", file.path], in: dir)
            XCTAssertEqual(run.status, 1, name)
            XCTAssertTrue(run.stdout.contains("not read by photoverse") && run.stdout.contains(script), "\(name): \(run.stdout)")
        }
        let dat = try PhotoverseBinary.run(["inspect", Fixtures.url("dlib-face/tiny-resnet.dat").path], in: dir)
        XCTAssertEqual(dat.status, 1)
        XCTAssertTrue(dat.stdout.contains("convert_dlib_face.py"), dat.stdout)
    }
}
