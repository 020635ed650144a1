import Foundation
import Formats
import TensorCore
import TestSupport
import XCTest

/// Drives the real `photoverse` binary the way scripts do.
final class GenerateCommandTests: XCTestCase {
    /// `--noise` in, `--latents-out` out: the same final latents as diffusers.
    func testNoiseContractMatchesDiffusers() throws {
        let golden = try SafetensorsFile(url: Fixtures.url("tiny-sd-golden/pipelines.safetensors"))
        let dir = Fixtures.temporaryDirectory("cli")
        for (name, scheduler) in [("ddim_cfg", "ddim"), ("euler_cfg", "euler"), ("dpmpp_2m_karras_cfg", "dpmpp-2m-karras")] {
            let noise = dir.appendingPathComponent("\(name)-noise.safetensors")
            try SafetensorsWriter.write(["latents": try golden.tensor("\(name)_noise")], to: noise)
            let latents = dir.appendingPathComponent("\(name)-latents.safetensors")
            let result = try PhotoverseBinary.run(["generate", "--model", Fixtures.url("tiny-sd").path,
                                  "--prompt", "a photo of an astronaut riding a horse",
                                  "--negative-prompt", "blurry, low quality", "--guidance", "7.5", "--steps", "6",
                                  "--scheduler", scheduler, "--noise", noise.path, "--latents-out", latents.path,
                                  "--out", dir.appendingPathComponent("\(name).png").path], in: dir)
            XCTAssertEqual(result.status, 0, result.stderr)
            let expected = try golden.tensor("\(name)_latents")
            let got = try SafetensorsFile(url: latents).tensor("latents")
            let scale = max(1, expected.scalars.map(abs).max() ?? 1)
            XCTAssertLessThan(got.maxAbsDifference(expected) / scale, 1e-3, name)
            let text = try PNGCodec.readText(dir.appendingPathComponent("\(name).png"))
            XCTAssertTrue(text["parameters"]?.contains("Seed: 0") ?? false)
        }
    }

    /// img2img from the command line: `--init-image`, `--strength` and `--seed` alone give diffusers'
    /// StableDiffusionImg2ImgPipeline latents for that seed (img2img-golden, make_img2img_fixtures.py).
    func testImg2ImgWithSeedMatchesDiffusers() throws {
        struct Case: Decodable {
            let name: String, scheduler: String, steps: Int, strength: Double, guidance: Float?, seed: UInt64
            let prompt: String, negativePrompt: String, timesteps: [Float], latents: String, initImage: String?
        }
        struct File: Decodable { let cases: [Case] }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let cases = try decoder.decode(File.self, from: Data(contentsOf: Fixtures.url("img2img-golden/cases.json"))).cases
            .filter { $0.initImage != nil }
        XCTAssertGreaterThanOrEqual(cases.count, 3, "img2img-golden's plain cases")
        let golden = try SafetensorsFile(url: Fixtures.url("img2img-golden/golden.safetensors"))
        let dir = Fixtures.temporaryDirectory("cli")
        for c in cases {
            let latents = dir.appendingPathComponent("\(c.name)-latents.safetensors"), out = dir.appendingPathComponent("\(c.name).png")
            var arguments = ["generate", "--model", Fixtures.url("tiny-sd").path, "--prompt", c.prompt,
                             "--guidance", "\(c.guidance ?? 7.5)", "--steps", "\(c.steps)",
                             "--scheduler", c.scheduler.replacingOccurrences(of: "_", with: "-"), "--seed", "\(c.seed)",
                             "--init-image", Fixtures.url("img2img-golden/\(c.initImage!)").path, "--strength", "\(c.strength)",
                             "--width", "64", "--height", "64", "--latents-out", latents.path, "--out", out.path]
            if !c.negativePrompt.isEmpty { arguments += ["--negative-prompt", c.negativePrompt] }
            let result = try PhotoverseBinary.run(arguments, in: dir)
            XCTAssertEqual(result.status, 0, "\(c.name): \(result.stderr)")
            guard result.status == 0 else { continue }
            XCTAssertTrue(result.stderr.contains("\(c.timesteps.count)/\(c.timesteps.count)"), "\(c.name): \(result.stderr)")
            let expected = try golden.tensor(c.latents)
            let scale = max(1, expected.scalars.map(abs).max() ?? 1)
            XCTAssertLessThan(try SafetensorsFile(url: latents).tensor("latents").maxAbsDifference(expected) / scale, 1e-3, c.name)
            let record = try PNGCodec.readText(out)["photoverse"] ?? ""
            XCTAssertTrue(record.contains("\"seed\":\(c.seed)"), record)
            XCTAssertTrue(record.contains("\"strength\":\(c.strength)"), record)
        }
    }

    func testSingleFileCheckpointGivesTheFolderLatents() throws {
        let golden = try SafetensorsFile(url: Fixtures.url("tiny-sd-golden/pipelines.safetensors"))
        let dir = Fixtures.temporaryDirectory("cli")
        let noise = dir.appendingPathComponent("noise.safetensors")
        try SafetensorsWriter.write(["latents": try golden.tensor("ddim_cfg_noise")], to: noise)
        let latents = dir.appendingPathComponent("latents.safetensors")
        let result = try PhotoverseBinary.run(["generate", "--model", Fixtures.url("tiny-sd-single.safetensors").path,
                                              "--config", Fixtures.url("tiny-sd").path,
                                              "--prompt", "a photo of an astronaut riding a horse",
                                              "--negative-prompt", "blurry, low quality", "--steps", "6",
                                              "--noise", noise.path, "--latents-out", latents.path], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let expected = try golden.tensor("ddim_cfg_latents")
        let scale = max(1, expected.scalars.map(abs).max() ?? 1)
        XCTAssertLessThan(try SafetensorsFile(url: latents).tensor("latents").maxAbsDifference(expected) / scale, 1e-3)
        let noConfig = try PhotoverseBinary.run(["generate", "--model", Fixtures.url("tiny-sd-single.safetensors").path,
                                                "--prompt", "x"], in: dir)
        XCTAssertEqual(noConfig.status, 1)
        XCTAssertTrue(noConfig.stderr.contains("--config"), noConfig.stderr)
        let pickle = try PhotoverseBinary.run(["generate", "--model", "/tmp/none.ckpt", "--config", Fixtures.url("tiny-sd").path,
                                              "--prompt", "x"], in: dir)
        XCTAssertEqual(pickle.status, 1)
        XCTAssertTrue(pickle.stderr.contains("convert_checkpoint.py"), pickle.stderr)
    }

    /// Any multiple of the VAE factor runs, as in diffusers: 40x40 on tiny-sd gives 5x5 latents,
    /// which halve to odd sides in the UNet (it used to trap). Other sizes are refused in one line.
    func testSizesThatHalveToOddLatentSidesRun() throws {
        let dir = Fixtures.temporaryDirectory("cli")
        for (width, height) in [(40, 40), (40, 56), (8, 8)] {
            let out = dir.appendingPathComponent("r\(width)x\(height).png")
            let result = try PhotoverseBinary.run(["generate", "--model", Fixtures.url("tiny-sd").path, "--prompt", "a cat",
                                                  "--steps", "2", "--width", "\(width)", "--height", "\(height)",
                                                  "--out", out.path], in: dir)
            XCTAssertEqual(result.status, 0, result.stderr)
            let image = try PNGCodec.read(out)
            XCTAssertEqual([image.width, image.height], [width, height])
        }
        let bad = try PhotoverseBinary.run(["generate", "--model", Fixtures.url("tiny-sd").path, "--prompt", "a cat",
                                           "--width", "44"], in: dir)
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.stderr, "photoverse generate: --width 44 is not a multiple of 8 (the VAE works in 8x8 pixel blocks)\n")
    }

    func testNeverOverwritesAndExplainsErrorsInOneLine() throws {
        let dir = Fixtures.temporaryDirectory("cli")
        let model = Fixtures.url("tiny-sd").path
        let first = try PhotoverseBinary.run(["generate", "--model", model, "--prompt", "a cat", "--steps", "1"], in: dir)
        let second = try PhotoverseBinary.run(["generate", "--model", model, "--prompt", "a cat", "--steps", "1"], in: dir)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertNotEqual(first.stdout, second.stdout, "a second run must get a new file name")
        let clash = try PhotoverseBinary.run(["generate", "--model", model, "--prompt", "a cat", "--steps", "1",
                             "--out", first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)], in: dir)
        XCTAssertEqual(clash.status, 1)
        XCTAssertTrue(clash.stderr.contains("already exists"), clash.stderr)
        let missing = try PhotoverseBinary.run(["generate", "--model", "/nonexistent-model", "--prompt", "x"], in: dir)
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("/nonexistent-model"))
    }

    func testUIWithoutAModelSaysWhatToPassAndHelpListsCommands() throws {
        let dir = Fixtures.temporaryDirectory("cli")
        let ui = try PhotoverseBinary.run(["ui", "--model", "/nonexistent-model"], in: dir)
        XCTAssertEqual(ui.status, 1)
        XCTAssertEqual(ui.stderr.split(separator: "\n").count, 1, ui.stderr)
        XCTAssertTrue(ui.stderr.contains("/nonexistent-model"), ui.stderr)
        let help = try PhotoverseBinary.run(["--help"], in: dir)
        for command in ["ui", "generate", "inspect", "bench"] { XCTAssertTrue(help.stdout.contains(command), command) }
    }
}

final class InspectCommandTests: XCTestCase {
    func testInspectSummarisesAndNamesKeyProblems() throws {
        let dir = Fixtures.temporaryDirectory("inspect")
        let ok = try PhotoverseBinary.run(["inspect", Fixtures.url("tiny-sd").path], in: dir)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("parameters 555,380"), ok.stdout)
        XCTAssertTrue(ok.stdout.contains("F16"))
        XCTAssertTrue(ok.stdout.contains("latent preview: SD1.x's map (no vae/latent_preview.json)"), ok.stdout)
        let wide = try PhotoverseBinary.run(["inspect", Fixtures.url("tiny-sd-8ch").path], in: dir)
        XCTAssertEqual(wide.status, 0, wide.stderr)
        XCTAssertTrue(wide.stdout.contains("latent preview: none: 8-channel latents"), wide.stdout)
        // A copy whose UNet config asks for a wider text context than the weights have.
        let broken = dir.appendingPathComponent("broken")
        try FileManager.default.copyItem(at: Fixtures.url("tiny-sd").resolvingSymlinksInPath(), to: broken)
        let configURL = broken.appendingPathComponent("unet/config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        config["cross_attention_dim"] = 48
        try FileManager.default.removeItem(at: configURL)
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let bad = try PhotoverseBinary.run(["inspect", broken.path], in: dir)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stdout.contains("attn2.to_k.weight has shape"), bad.stdout)
        // A colour map for another latent width: named, and the run fails.
        try Data(#"{"latent_rgb_factors": [[1, 0, 0]]}"#.utf8).write(to: broken.appendingPathComponent("vae/latent_preview.json"))
        let map = try PhotoverseBinary.run(["inspect", broken.path], in: dir)
        XCTAssertEqual(map.status, 1)
        XCTAssertTrue(map.stdout.contains("problem: \(broken.path)/vae/latent_preview.json: latent_rgb_factors has 1 rows; the VAE has 4"), map.stdout)
        let mini = try PhotoverseBinary.run(["inspect", Fixtures.root.appendingPathComponent("../../Models/mini").standardized.path], in: dir)
        XCTAssertEqual(mini.status, 0, mini.stderr)
        XCTAssertTrue(mini.stdout.contains("latent preview: vae/latent_preview.json: 4 channels to RGB"), mini.stdout)
    }
}
