import Foundation
import Models
import TestSupport
import XCTest

/// A model folder with `image_encoder/` and `photoverse-adapter.safetensors` beside the SD
/// components: both are found, inspected and checked like the rest.
final class PersonalizedModelFolderTests: XCTestCase {
    func makeFolder() throws -> URL {
        let dir = Fixtures.temporaryDirectory("personalized-model")
        let fm = FileManager.default
        for item in try fm.contentsOfDirectory(atPath: Fixtures.url("tiny-sd").path) {
            // tokenizer/ is a relative symlink: copy what it points to.
            try fm.copyItem(at: Fixtures.url("tiny-sd/\(item)").resolvingSymlinksInPath(), to: dir.appendingPathComponent(item))
        }
        try fm.copyItem(at: Fixtures.url("photoverse-golden/image_encoder"), to: dir.appendingPathComponent("image_encoder"))
        try fm.copyItem(at: Fixtures.url("photoverse-golden/adapter.safetensors"),
                        to: dir.appendingPathComponent(ModelFolder.adapterFileName))
        return dir
    }

    func testInspectSummarisesImageEncoderAndAdapter() throws {
        let folder = try ModelFolder(try makeFolder())
        XCTAssertNotNil(folder.adapterFile)
        XCTAssertEqual(folder.imageEncoderComponent, "image_encoder")
        let summaries = folder.inspect()
        XCTAssertEqual(summaries.map(\.name), ["text_encoder", "tokenizer", "unet", "vae", "image_encoder", "taesd",
                                               ModelFolder.adapterFileName])
        for summary in summaries { XCTAssertEqual(summary.problems, [], summary.name) }
        let adapter = summaries.last!
        XCTAssertTrue(adapter.config.contains("branches text+image"), adapter.config)
        XCTAssertTrue(adapter.config.contains("LoRA rank 4"), adapter.config)
        XCTAssertTrue(adapter.config.contains("11 attn2 layers"), adapter.config)
        XCTAssertGreaterThan(summaries[4].parameters, 0)
    }

    func testAdapterForAnotherUNetIsRefusedByName() throws {
        let dir = try makeFolder()
        // An adapter whose tokens are wider than this UNet attends to.
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("unet/config.json"))) as! [String: Any]
        config["cross_attention_dim"] = 64
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("unet/config.json"))
        let unet = try UNet2DConditionModel(config: try ModelFolder(dir).config(UNetConfig.self, of: "unet"),
                                            weights: WeightLoader(randomSeed: 1).root)
        XCTAssertThrowsError(try PhotoVerseAdapter.load(dir.appendingPathComponent(ModelFolder.adapterFileName), for: unet)) { error in
            XCTAssertTrue("\(error)".contains("text_adapter produces 32-wide tokens but the UNet attends to 64"), "\(error)")
        }
    }
}
