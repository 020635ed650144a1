import Foundation
import Formats
import TensorCore
import TestSupport
import XCTest

/// `photoverse generate --reference` end to end: the photo is read, prepared (here
/// `--crop none`: resized with Pillow's bicubic), encoded, and the three-term guided
/// generation matches the PyTorch reference given the same noise.
final class PersonalizedGenerateTests: XCTestCase {
    let golden = Fixtures.url("photoverse-golden")

    func arguments(noise: URL, latents: URL, out: URL) -> [String] {
        ["generate", "--model", Fixtures.url("tiny-sd").path,
         "--adapter", golden.appendingPathComponent("adapter.safetensors").path, "--image-encoder", golden.path,
         "--reference", golden.appendingPathComponent("reference.png").path, "--crop", "none",
         "--prompt", "a painting of S* on the beach at sunset", "--negative-prompt", "blurry, low quality",
         "--steps", "4", "--scheduler", "ddim", "--guidance", "7.5", "--identity-guidance", "3",
         "--image-weight", "0.8", "--lora-scale", "1", "--tokens", "1",
         "--noise", noise.path, "--latents-out", latents.path, "--out", out.path]
    }

    func testThreeTermGenerationMatchesTheReference() throws {
        let generate = try SafetensorsFile(url: golden.appendingPathComponent("generate.safetensors"))
        let dir = Fixtures.temporaryDirectory("cli-photoverse")
        let noise = dir.appendingPathComponent("noise.safetensors")
        try SafetensorsWriter.write(["latents": try generate.tensor("ddim_three_noise")], to: noise)
        let latents = dir.appendingPathComponent("latents.safetensors"), out = dir.appendingPathComponent("out.png")
        let result = try PhotoverseBinary.run(arguments(noise: noise, latents: latents, out: out), in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let expected = try generate.tensor("ddim_three_latents")
        let scale = max(1, expected.scalars.map(abs).max() ?? 1)
        XCTAssertLessThan(try SafetensorsFile(url: latents).tensor("latents").maxAbsDifference(expected) / scale, 1e-3)
        // The PNG carries what is needed to run it again.
        let text = try PNGCodec.readText(out)
        XCTAssertTrue(text["parameters"]?.contains("Image weight: 0.8") ?? false, text["parameters"] ?? "")
        XCTAssertTrue(text["photoverse"]?.contains("\"identityGuidance\":3") ?? false, text["photoverse"] ?? "")
    }

    func testRealPhotoIsCroppedToTheDetectedFace() throws {
        let dir = Fixtures.temporaryDirectory("cli-photoverse")
        let result = try PhotoverseBinary.run(
            ["generate", "--model", Fixtures.url("tiny-sd").path,
             "--adapter", golden.appendingPathComponent("adapter.safetensors").path, "--image-encoder", golden.path,
             "--reference", Fixtures.url("faces/astronaut.png").path, "--prompt", "S* on the moon", "--steps", "2",
             "--out", dir.appendingPathComponent("moon.png").path], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("astronaut.png: 1 face"), result.stderr)
        XCTAssertEqual(try PNGCodec.read(dir.appendingPathComponent("moon.png")).width, 64)
    }

    /// A face from the model's own references/ folder is already the encoder's masked crop: it
    /// is used whole without --crop (a detector would refuse a face this small).
    func testTheModelsShippedReferencesAreUsedWhole() throws {
        let dir = Fixtures.temporaryDirectory("cli-photoverse")
        let model = dir.appendingPathComponent("model")
        let manager = FileManager.default
        try manager.createDirectory(at: model.appendingPathComponent("references"), withIntermediateDirectories: true)
        for part in ["model_index.json", "scheduler", "text_encoder", "tokenizer", "unet", "vae"] {
            try manager.copyItem(at: Fixtures.url("tiny-sd/\(part)").resolvingSymlinksInPath(), to: model.appendingPathComponent(part))
        }
        try manager.copyItem(at: golden.appendingPathComponent("image_encoder"), to: model.appendingPathComponent("image_encoder"))
        try manager.copyItem(at: golden.appendingPathComponent("adapter.safetensors"),
                             to: model.appendingPathComponent("photoverse-adapter.safetensors"))
        let face = model.appendingPathComponent("references/heldout-0001.png")
        try manager.copyItem(at: golden.appendingPathComponent("reference.png"), to: face)
        let out = dir.appendingPathComponent("shipped.png")
        let run = try PhotoverseBinary.run(["generate", "--model", model.path, "--reference", face.path, "--prompt", "S* in the snow",
                                            "--steps", "2", "--out", out.path], in: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("heldout-0001.png: whole image"), run.stderr)
        XCTAssertTrue(try PNGCodec.readText(out)["photoverse"]?.contains("\"crop\":\"none\"") ?? false)
        // the same photo elsewhere is a photo like any other: auto crop looks for a face
        let elsewhere = dir.appendingPathComponent("face.png")
        try manager.copyItem(at: face, to: elsewhere)
        let auto = try PhotoverseBinary.run(["generate", "--model", model.path, "--reference", elsewhere.path, "--prompt", "S*",
                                             "--steps", "2", "--out", dir.appendingPathComponent("auto.png").path], in: dir)
        XCTAssertNotEqual(auto.status, 0, "the synthetic face is not found by the detector")
        XCTAssertTrue(auto.stderr.contains("face.png"), auto.stderr)
    }

    /// The paper's image-to-image trick: `--strength` with a reference starts from the noised
    /// reference crop, runs only that fraction of the steps, and with `--seed` gives the PyTorch
    /// reference's latents (img2img-golden photoverse_strength: the seed samples the start's
    /// posterior, then the noise, as diffusers' img2img does).
    func testStrengthStartsFromTheReferenceAndMatchesItWithTheSeed() throws {
        struct Case: Decodable {   // the PhotoVerse knobs are absent from the file's plain cases
            let name: String, steps: Int, strength: Double, seed: UInt64, sImage: Float?, sText: Float?, sigma: Float?, alpha: Float?
            let gamma: Float?, numWords: Int?, scheduler: String, prompt: String, negativePrompt: String, timesteps: [Float], latents: String
        }
        struct File: Decodable { let cases: [Case] }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let folder = Fixtures.url("img2img-golden")
        let all = try decoder.decode(File.self, from: Data(contentsOf: folder.appendingPathComponent("cases.json"))).cases
        let c = try XCTUnwrap(all.first { $0.name == "photoverse_strength" }, "img2img-golden case photoverse_strength")
        let dir = Fixtures.temporaryDirectory("cli-photoverse")
        let out = dir.appendingPathComponent("trick.png"), latents = dir.appendingPathComponent("latents.safetensors")
        let result = try PhotoverseBinary.run(
            ["generate", "--model", Fixtures.url("tiny-sd").path,
             "--adapter", golden.appendingPathComponent("adapter.safetensors").path, "--image-encoder", golden.path,
             "--reference", golden.appendingPathComponent("reference.png").path, "--crop", "none",
             "--prompt", c.prompt, "--negative-prompt", c.negativePrompt, "--steps", "\(c.steps)", "--scheduler", c.scheduler,
             "--guidance", "\(try XCTUnwrap(c.sText))", "--identity-guidance", "\(try XCTUnwrap(c.sImage))",
             "--text-weight", "\(try XCTUnwrap(c.gamma))", "--image-weight", "\(try XCTUnwrap(c.sigma))",
             "--lora-scale", "\(try XCTUnwrap(c.alpha))", "--tokens", "\(try XCTUnwrap(c.numWords))",
             "--strength", "\(c.strength)", "--seed", "\(c.seed)", "--latents-out", latents.path, "--out", out.path], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("\(c.timesteps.count)/\(c.timesteps.count)"),
                      "\(c.strength) of \(c.steps) steps: \(result.stderr)")
        let expected = try SafetensorsFile(url: folder.appendingPathComponent("golden.safetensors")).tensor(c.latents)
        let scale = max(1, expected.scalars.map(abs).max() ?? 1)
        XCTAssertLessThan(try SafetensorsFile(url: latents).tensor("latents").maxAbsDifference(expected) / scale, 1e-3)
        let record = try PNGCodec.readText(out)["photoverse"] ?? ""
        XCTAssertTrue(record.contains("\"strength\":\(c.strength)"), record)
        XCTAssertTrue(record.contains("\"seed\":\(c.seed)"), record)
    }

    func testPersonalizationErrorsAreOneLine() throws {
        let dir = Fixtures.temporaryDirectory("cli-photoverse")
        let model = Fixtures.url("tiny-sd").path
        let reference = golden.appendingPathComponent("reference.png").path
        let cases: [([String], String)] = [
            (["--reference", reference], "no PhotoVerse adapter"),
            (["--adapter", golden.appendingPathComponent("adapter.safetensors").path], "need at least one --reference"),
            (["--reference", reference, "--adapter", golden.appendingPathComponent("adapter.safetensors").path,
              "--image-encoder", golden.path, "--crop", "1,2,3"], "--crop"),
            (["--reference", "/nonexistent.png", "--adapter", golden.appendingPathComponent("adapter.safetensors").path,
              "--image-encoder", golden.path], "/nonexistent.png"),
            (["--reference", reference, "--adapter", golden.appendingPathComponent("adapter.safetensors").path,
              "--image-encoder", golden.path, "--crop", "none", "--image-start", "0.8", "--image-end", "0.2"], "--image-start"),
            (["--reference", reference, "--adapter", Fixtures.url("tiny-sd/unet/diffusion_pytorch_model.safetensors").path,
              "--image-encoder", golden.path], "not an adapter file"),
        ]
        for (extra, expected) in cases {
            let result = try PhotoverseBinary.run(["generate", "--model", model, "--prompt", "S* smiling", "--steps", "1"] + extra, in: dir)
            XCTAssertEqual(result.status, 1, "\(extra): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("note:") }
            XCTAssertEqual(lines.count, 1, "\(extra): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(expected), "\(extra): expected '\(expected)' in \(result.stderr)")
        }
    }
}
