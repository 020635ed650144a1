import Foundation
import TestSupport

/// Models and photos for the UI tests.
enum UIFixtures {
    static let plainModel = Fixtures.url("tiny-sd")

    /// The tiny model with a PhotoVerse adapter and image encoder (the parity fixtures'),
    /// copied together into `folder` (a few MB), so the identity knobs are live.
    static func identityModel(in folder: URL) throws -> URL {
        let model = folder.appendingPathComponent("tiny-photoverse")
        let manager = FileManager.default
        try manager.createDirectory(at: model, withIntermediateDirectories: true)
        for part in ["model_index.json", "scheduler", "text_encoder", "tokenizer", "unet", "vae"] {
            try manager.copyItem(at: plainModel.appendingPathComponent(part).resolvingSymlinksInPath(),
                                 to: model.appendingPathComponent(part))
        }
        let golden = Fixtures.url("photoverse-golden")
        try manager.copyItem(at: golden.appendingPathComponent("image_encoder"), to: model.appendingPathComponent("image_encoder"))
        try manager.copyItem(at: golden.appendingPathComponent("adapter.safetensors"),
                             to: model.appendingPathComponent("photoverse-adapter.safetensors"))
        return model
    }

    /// A folder `faces/` in `home` with one photo of a face the detector finds.
    @discardableResult
    static func facePhotos(in home: URL) throws -> URL {
        let faces = home.appendingPathComponent("faces")
        try FileManager.default.createDirectory(at: faces, withIntermediateDirectories: true)
        let photo = faces.appendingPathComponent("astronaut.png")
        try FileManager.default.copyItem(at: Fixtures.url("faces/astronaut.png"), to: photo)
        try Data("not an image".utf8).write(to: faces.appendingPathComponent("notes.txt"))
        return photo
    }

    static func results(in folder: URL) -> [URL] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".png") }.sorted().map { folder.appendingPathComponent($0) }
    }
}
