import Foundation
import Formats
import TensorCore
import TestSupport
import XCTest

/// The IP-Adapter SD1.5 variants through the real binary: `generate --adapter FILE` (with
/// `--face-embedding`, `--shortcut-scale`) matches diffusers' pipeline given the same noise
/// (goldens by training/fixtures/make_ip_adapter_variants.py), FaceID with its companion LoRA (carried
/// by the published file; `--lora` with diffusers' saved copy beside the diffusers layout), the PNG's
/// record reruns it, bad inputs are one line, and `inspect FILE` names the variant.
final class IPAdapterVariantsCLITests: XCTestCase {
    let folder = Fixtures.url("ip-adapter-variants")
    let encoder = Fixtures.url("photoverse-golden/ip_image_encoder").path
    let reference = Fixtures.url("photoverse-golden/reference.png").path
    var dir: URL!

    override func setUpWithError() throws {
        dir = Fixtures.temporaryDirectory("cli-ip-variants")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: dir)
    }

    func file(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// diffusers' settings: DDIM 4 steps, guidance 5, σ 0.6, 64x64, the golden's noise.
    func arguments(_ variant: String, adapter: String, extra: [String], latents: URL, out: URL) throws -> [String] {
        let noise = dir.appendingPathComponent("noise-\(latents.deletingPathExtension().lastPathComponent).safetensors")
        let golden = try SafetensorsFile(url: URL(fileURLWithPath: file("\(variant)-golden.safetensors")))
        try SafetensorsWriter.write(["latents": try golden.tensor("noise")], to: noise)
        return ["generate", "--model", Fixtures.url("tiny-sd").path, "--adapter", file(adapter),
                "--prompt", "a photo of an astronaut riding a horse", "--negative-prompt", "blurry, low quality",
                "--steps", "4", "--scheduler", "ddim", "--guidance", "5", "--image-weight", "0.6",
                "--noise", noise.path, "--latents-out", latents.path, "--out", out.path] + extra
    }

    /// The largest difference from diffusers' latents, relative to the largest latent.
    func difference(_ url: URL, _ variant: String, _ name: String) throws -> Float {
        let golden = try SafetensorsFile(url: URL(fileURLWithPath: self.file("\(variant)-golden.safetensors")))
        let expected = try golden.tensor(name)
        let scale = max(1, expected.scalars.map(abs).max() ?? 1)
        return try SafetensorsFile(url: url).tensor("latents").maxAbsDifference(expected) / scale
    }

    func assertLatents(_ url: URL, _ variant: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertLessThan(try difference(url, variant, name), 1e-3, "\(variant) \(name)", file: file, line: line)
    }

    func testEveryVariantThroughTheCLIMatchesDiffusers() throws {
        let withPhoto = ["--image-encoder", encoder, "--reference", reference, "--crop", "none"]
        let runs: [(variant: String, adapter: String, extra: [String], golden: String)] = [
            ("plain", "plain-diffusers.safetensors", withPhoto, "latents"),
            ("plus", "plus.safetensors", withPhoto, "latents"),
            ("full-face", "full-face-diffusers.safetensors", withPhoto, "latents"),
            ("faceid", "faceid.safetensors", ["--face-embedding", file("face_embedding.npy")], "latents"),
            ("faceid-plus", "faceid-plus-diffusers.safetensors",
             withPhoto + ["--face-embedding", file("face_embedding.safetensors"), "--lora", file("faceid-plus-lora.safetensors")], "latents"),
            ("faceid-plus", "faceid-plus.safetensors",
             withPhoto + ["--face-embedding", file("face_embedding.npy"), "--shortcut-scale", "0.8"], "latents_shortcut"),
        ]
        for (i, run) in runs.enumerated() {
            let latents = dir.appendingPathComponent("latents-\(i).safetensors"), out = dir.appendingPathComponent("out-\(i).png")
            let result = try PhotoverseBinary.run(try arguments(run.variant, adapter: run.adapter, extra: run.extra, latents: latents, out: out), in: dir)
            XCTAssertEqual(result.status, 0, "\(run.adapter): \(result.stderr)")
            try assertLatents(latents, run.variant, run.golden)
            XCTAssertFalse(result.stderr.contains("companion LoRA"), result.stderr)
        }
        // diffusers' layout without its companion LoRA: a note, and a run far from diffusers' (the LoRA is applied above).
        let bare = dir.appendingPathComponent("latents-bare.safetensors")
        let result = try PhotoverseBinary.run(try arguments("faceid", adapter: "faceid-diffusers.safetensors",
                                                            extra: ["--face-embedding", file("face_embedding.npy")],
                                                            latents: bare, out: dir.appendingPathComponent("bare.png")), in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("companion LoRA") && result.stderr.contains("--lora"), result.stderr)
        XCTAssertGreaterThan(try difference(bare, "faceid", "latents"), 0.1)
        // The PNG's record holds the new knobs, and --load reruns the Plus-v2 run bit for bit.
        let record = try XCTUnwrap(try PNGCodec.readText(dir.appendingPathComponent("out-5.png"))["photoverse"])
        XCTAssertTrue(record.contains("\"shortcutScale\":0.8") && record.contains("face_embedding.npy"), record)
        let again = dir.appendingPathComponent("again.safetensors")
        let rerun = try PhotoverseBinary.run(["generate", "--load", dir.appendingPathComponent("out-5.png").path,
                                              "--latents-out", again.path, "--out", dir.appendingPathComponent("again.png").path], in: dir)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertEqual(try SafetensorsFile(url: again).tensor("latents").scalars,
                       try SafetensorsFile(url: dir.appendingPathComponent("latents-5.safetensors")).tensor("latents").scalars)
    }

    func testBadVariantInputsAreOneLine() throws {
        let base = ["generate", "--model", Fixtures.url("tiny-sd").path, "--prompt", "a fox", "--steps", "1", "--width", "64", "--height", "64",
                    "--out", dir.appendingPathComponent("never.png").path]
        let wide = dir.appendingPathComponent("wide.safetensors")
        try SafetensorsWriter.write(["embedding": Tensor(shape: [512])], to: wide)
        let notAdapter = dir.appendingPathComponent("odd.safetensors")
        try SafetensorsWriter.write(["image_proj.mystery.weight": Tensor(shape: [2, 2])], to: notAdapter)
        let cases: [(arguments: [String], mentions: String)] = [
            (base + ["--adapter", file("faceid.safetensors"), "--face-embedding", wide.path], "512 values"),
            (base + ["--adapter", file("faceid.safetensors"), "--reference", reference], "reads only the face embedding"),
            (base + ["--adapter", file("faceid-plus.safetensors"), "--image-encoder", encoder, "--reference", reference, "--crop", "none"],
             "give --face-embedding FILE"),
            (base + ["--adapter", file("plus.safetensors"), "--image-encoder", encoder, "--reference", reference, "--crop", "none",
                     "--face-embedding", file("face_embedding.npy")], "reads no face embedding"),
            (base + ["--adapter", file("faceid.safetensors"), "--face-embedding", file("face_embedding.npy"), "--shortcut-scale", "1"],
             "--shortcut-scale"),
            (base + ["--adapter", file("faceid.safetensors"), "--face-embedding", file("face_embedding.npy"), "--shortcut-scale", "nan"],
             "--shortcut-scale nan is not a finite number"),
            (base + ["--adapter", file("faceid.safetensors"), "--face-embedding", dir.appendingPathComponent("missing.npy").path], "missing.npy"),
            (base + ["--adapter", notAdapter.path, "--image-encoder", encoder, "--reference", reference], "odd.safetensors: an IP-Adapter file whose image_proj"),
        ]
        for item in cases {
            let run = try PhotoverseBinary.run(item.arguments, in: dir)
            let shown = item.arguments.dropFirst(base.count).joined(separator: " ")
            XCTAssertEqual(run.status, 1, "\(shown): \(run.stderr)")
            let lines = run.stderr.split(separator: "\n").filter { !$0.isEmpty }
            XCTAssertEqual(lines.count, 1, "\(shown): one line expected, got:\n\(run.stderr)")
            XCTAssertTrue(run.stderr.contains(item.mentions), "\(shown): expected '\(item.mentions)' in \(run.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("never.png").path))
    }

    func testInspectNamesTheVariantOfEachFile() throws {
        let titles = ["plain": "IP-Adapter (image embedding)", "plus": "Plus / Plus-Face", "full-face": "Full-Face",
                      "faceid": "FaceID (ArcFace", "faceid-plus": "FaceID-Plus / Plus-v2"]
        for (variant, title) in titles {
            for (name, layout) in [("\(variant).safetensors", "published"), ("\(variant)-diffusers.safetensors", "diffusers")] {
                let run = try PhotoverseBinary.run(["inspect", file(name)], in: dir)
                XCTAssertEqual(run.status, 0, run.stderr)
                XCTAssertTrue(run.stdout.contains(title) && run.stdout.contains("\(layout) layout"), "\(name): \(run.stdout)")
                XCTAssertEqual(run.stdout.contains("carries FaceID's companion LoRA"), variant.hasPrefix("faceid") && layout == "published", run.stdout)
                XCTAssertEqual(run.stdout.contains("give it with --lora FILE"), variant.hasPrefix("faceid") && layout == "diffusers", run.stdout)
            }
        }
    }
}
