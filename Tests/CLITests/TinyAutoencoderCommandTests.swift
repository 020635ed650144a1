import Foundation
import Formats
import TensorCore
import TestSupport
import XCTest

/// TAESD through the real binary: `--decoder taesd` with `--noise`/`--latents-out` gives diffusers'
/// StableDiffusionPipeline(vae=AutoencoderTiny) result (taesd-golden), `--preview-dir` writes the
/// x₀ previews, and the PNG's record reruns it.
final class TinyAutoencoderCommandTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = Fixtures.temporaryDirectory("cli-taesd") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// PNG pixels are 8-bit: within one level (plus float slack) of the golden's floats.
    func assertPixels(_ file: URL, match expected: Tensor, _ message: String) throws {
        let image = try PNGCodec.read(file).tensor(range: .zeroToOne)
        XCTAssertEqual(image.shape, expected.shape, message)
        let difference = image.maxAbsDifference(expected)
        XCTAssertLessThanOrEqual(difference, 1.0 / 255 + 1e-5, message)
    }

    /// The tiny model as a folder without its taesd/ (every other part linked).
    func modelWithoutTAESD() throws -> URL {
        let copy = dir.appendingPathComponent("no-taesd")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        for part in ["model_index.json", "scheduler", "text_encoder", "tokenizer", "unet", "vae"] {
            try FileManager.default.createSymbolicLink(at: copy.appendingPathComponent(part),
                                                       withDestinationURL: Fixtures.url("tiny-sd/\(part)").resolvingSymlinksInPath())
        }
        return copy
    }

    func testDecoderTAESDAndPreviewsMatchDiffusers() throws {
        let golden = try SafetensorsFile(url: Fixtures.url("taesd-golden/golden.safetensors"))
        let noise = dir.appendingPathComponent("noise.safetensors")
        try SafetensorsWriter.write(["latents": try golden.tensor("ddim_noise")], to: noise)
        let latents = dir.appendingPathComponent("latents.safetensors"), out = dir.appendingPathComponent("taesd.png")
        let previews = dir.appendingPathComponent("previews")
        let run = try PhotoverseBinary.run(["generate", "--model", Fixtures.url("tiny-sd").path,
                                            "--prompt", "a photo of an astronaut riding a horse",
                                            "--negative-prompt", "blurry, low quality", "--guidance", "7.5", "--steps", "6",
                                            "--scheduler", "ddim", "--noise", noise.path, "--latents-out", latents.path,
                                            "--decoder", "taesd", "--preview", "taesd", "--preview-dir", previews.path,
                                            "--out", out.path], in: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        let expected = try golden.tensor("ddim_latents")
        let scale = max(1, expected.scalars.map(abs).max() ?? 1)
        XCTAssertLessThan(try SafetensorsFile(url: latents).tensor("latents").maxAbsDifference(expected) / scale, 1e-3)
        try assertPixels(out, match: try golden.tensor("ddim_image"), "the final image, decoded by TAESD")
        let written = try FileManager.default.contentsOfDirectory(atPath: previews.path).sorted()
        XCTAssertEqual(written, (1...6).map { "step-\($0).png" })
        let expectedPreviews = try golden.tensor("ddim_previews")
        for (index, step) in [1, 3, 5].enumerated() {
            try assertPixels(previews.appendingPathComponent("step-\(step).png"),
                             match: expectedPreviews.slice(axis: 0, start: index, length: 1), "preview of step \(step)")
        }
        let record = try PNGCodec.readText(out)["photoverse"] ?? ""
        XCTAssertTrue(record.contains("\"decoder\":\"taesd\""), record)
        XCTAssertTrue(record.contains("tiny-sd\\/taesd") || record.contains("tiny-sd/taesd"), record)

        // The record reruns it: the same pixels, the same TAESD.
        let again = dir.appendingPathComponent("again.png")
        let rerun = try PhotoverseBinary.run(["generate", "--load", out.path, "--out", again.path], in: dir)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertEqual(try PNGCodec.read(again).pixels, try PNGCodec.read(out).pixels)
    }

    /// --taesd names a folder elsewhere; without one, a model folder lacking taesd/ refuses in one line.
    func testTAESDFolderElsewhere() throws {
        let model = try modelWithoutTAESD()
        let base = ["generate", "--model", model.path, "--prompt", "a fox", "--steps", "2", "--decoder", "taesd"]
        let refused = try PhotoverseBinary.run(base + ["--out", dir.appendingPathComponent("refused.png").path], in: dir)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("--decoder taesd: no TAESD is loaded"), refused.stderr)
        let out = dir.appendingPathComponent("elsewhere.png")
        let run = try PhotoverseBinary.run(base + ["--taesd", Fixtures.url("tiny-taesd").path, "--out", out.path], in: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue((try PNGCodec.readText(out)["photoverse"] ?? "").contains("tiny-taesd"))
    }

    /// Previews alone (the VAE decodes the image) leave the record without a TAESD folder: a rerun
    /// does not need one. A --taesd given but unused is still checked.
    func testAPreviewOnlyTAESDIsNotRecorded() throws {
        let out = dir.appendingPathComponent("vae.png")
        let run = try PhotoverseBinary.run(["generate", "--model", Fixtures.url("tiny-sd").path, "--prompt", "a fox", "--steps", "2",
                                            "--preview-dir", dir.appendingPathComponent("previews").path, "--out", out.path], in: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("previews").path).sorted(),
                       ["step-1.png", "step-2.png"])
        let record = try PNGCodec.readText(out)["photoverse"] ?? ""
        XCTAssertTrue(record.contains("\"decoder\":\"full\""), record)
        XCTAssertFalse(record.contains("\"taesd\":"), record)
        let unused = try PhotoverseBinary.run(["generate", "--model", Fixtures.url("tiny-sd").path, "--prompt", "a fox", "--steps", "2",
                                               "--taesd", dir.appendingPathComponent("nowhere").path], in: dir)
        XCTAssertEqual(unused.status, 1)
        XCTAssertTrue(unused.stderr.contains("nowhere: no such TAESD folder"), unused.stderr)
    }

    /// `sweep` shares the request options: every cell decoded by TAESD, and its record says so.
    func testSweepCellsDecodeThroughTAESD() throws {
        let cells = dir.appendingPathComponent("sweep")
        let run = try PhotoverseBinary.run(["sweep", "--model", Fixtures.url("tiny-sd").path, "--prompt", "a fox", "--steps", "2",
                                            "--decoder", "taesd", "--x", "seed=1,2", "--out-dir", cells.path], in: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        for cell in ["x1-y1.png", "x2-y1.png"] {
            let record = try PNGCodec.readText(cells.appendingPathComponent(cell))["photoverse"] ?? ""
            XCTAssertTrue(record.contains("\"decoder\":\"taesd\""), "\(cell): \(record)")
        }
    }

    /// `inspect` checks a model folder's taesd/ like its other parts.
    func testInspectChecksTheFoldersTAESD() throws {
        let ok = try PhotoverseBinary.run(["inspect", Fixtures.url("tiny-sd").path], in: dir)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("taesd: AutoencoderTiny (TAESD): width 8, 4 latent channels, factor 8, scale 1.0"), ok.stdout)
        let model = try modelWithoutTAESD()
        let taesd = model.appendingPathComponent("taesd")
        try FileManager.default.createDirectory(at: taesd, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixtures.url("tiny-taesd/config.json"), to: taesd.appendingPathComponent("config.json"))
        let file = try SafetensorsFile(url: Fixtures.url("tiny-taesd/diffusion_pytorch_model.safetensors"))
        var tensors: [String: Tensor] = [:]
        for name in file.tensorNames where name != "encoder.layers.0.bias" { tensors[name] = try file.tensor(name) }
        try SafetensorsWriter.write(tensors, to: taesd.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        let bad = try PhotoverseBinary.run(["inspect", model.path], in: dir)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stdout.contains("missing encoder.layers.0.bias [8]"), bad.stdout)
    }
}
