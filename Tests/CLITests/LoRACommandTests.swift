import Foundation
import Formats
import TensorCore
import TestSupport
import XCTest

/// `generate --lora FILE[:SCALE]` through the real binary: diffusers' latents for the same LoRA
/// files and scales (lora-golden), the LCM preset, and a result's PNG that reruns with its LoRAs.
final class LoRACommandTests: XCTestCase {
    let golden = try! SafetensorsFile(url: Fixtures.url("lora-golden/golden.safetensors"))
    let kohya = Fixtures.url("lora-golden/kohya.safetensors").path
    let peft = Fixtures.url("lora-golden/peft.safetensors").path
    let prompt = "a photo of an astronaut riding a horse"

    func latents(_ url: URL) throws -> Tensor { try SafetensorsFile(url: url).tensor("latents") }

    func assertClose(_ got: Tensor, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try golden.tensor(name)
        let scale = max(1, expected.scalars.map(abs).max() ?? 1)
        XCTAssertLessThan(got.maxAbsDifference(expected) / scale, 1e-3, name, file: file, line: line)
    }

    func testTwoFilesWithTheirScalesMatchDiffusersAndTheResultReruns() throws {
        let dir = Fixtures.temporaryDirectory("cli-lora")
        let noise = dir.appendingPathComponent("noise.safetensors")
        try SafetensorsWriter.write(["latents": try golden.tensor("both_ddim_noise")], to: noise)
        let out = dir.appendingPathComponent("both.png"), first = dir.appendingPathComponent("first.safetensors")
        let run = try PhotoverseBinary.run(["generate", "--model", Fixtures.url("tiny-sd").path, "--prompt", prompt,
                                            "--negative-prompt", "blurry, low quality", "--steps", "4", "--scheduler", "ddim",
                                            "--lora", "\(kohya):0.8", "--lora", "\(peft):-0.6", "--noise", noise.path,
                                            "--latents-out", first.path, "--out", out.path], in: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        try assertClose(try latents(first), "both_ddim_latents")
        // the PNG's record names both files and scales: --load reruns it bit for bit
        let again = dir.appendingPathComponent("again.safetensors")
        let rerun = try PhotoverseBinary.run(["generate", "--load", out.path, "--latents-out", again.path,
                                              "--out", dir.appendingPathComponent("again.png").path], in: dir)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertEqual(try latents(again).maxAbsDifference(try latents(first)), 0)
        let record = (try PNGCodec.readText(out)["photoverse"] ?? "").replacingOccurrences(of: "\\/", with: "/")
        XCTAssertTrue(record.contains("\"loras\":[{\"path\":\"\(kohya)\",\"scale\":0.8}"), record)
    }

    func testInspectNamesTheLayoutLayersRanksAndAlphas() throws {
        let dir = Fixtures.temporaryDirectory("cli-lora-inspect")
        let kohyaRun = try PhotoverseBinary.run(["inspect", kohya], in: dir)
        XCTAssertEqual(kohyaRun.status, 0, kohyaRun.stderr)
        // tiny-sd: 201 Linear/Conv2d layers in the UNet (40 of them k×k convolutions), 12 Linear in the text encoder
        XCTAssertTrue(kohyaRun.stdout.contains("kohya.safetensors: LoRA, kohya layout (--lora FILE[:SCALE])"), kohyaRun.stdout)
        XCTAssertTrue(kohyaRun.stdout.contains("UNet layers 201 (40 LoCon convolutions), text encoder layers 12"), kohyaRun.stdout)
        XCTAssertTrue(kohyaRun.stdout.contains("ranks 2, 4; 213 alphas"), kohyaRun.stdout)
        let peftRun = try PhotoverseBinary.run(["inspect", peft], in: dir)
        XCTAssertTrue(peftRun.stdout.contains("peft.safetensors: LoRA, peft layout"), peftRun.stdout)
        XCTAssertTrue(peftRun.stdout.contains("rank 3; 0 alphas"), peftRun.stdout)
        let old = try PhotoverseBinary.run(["inspect", Fixtures.url("lora-golden/diffusers_old.safetensors").path], in: dir)
        XCTAssertTrue(old.stdout.contains("LoRA, diffusers layout"), old.stdout)
    }

    func testLCMPresetWithTheLoRAMatchesDiffusers() throws {
        let dir = Fixtures.temporaryDirectory("cli-lora-lcm")
        let noise = dir.appendingPathComponent("noise.safetensors")
        try SafetensorsWriter.write(["latents": try golden.tensor("kohya_lcm_noise")], to: noise)
        let out = dir.appendingPathComponent("lcm.safetensors")
        let run = try PhotoverseBinary.run(["generate", "--model", Fixtures.url("tiny-sd").path, "--prompt", prompt,
                                            "--negative-prompt", "blurry, low quality", "--preset", "lcm", "--seed", "61",
                                            "--lora", kohya, "--noise", noise.path, "--latents-out", out.path,
                                            "--out", dir.appendingPathComponent("lcm.png").path], in: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        try assertClose(try latents(out), "kohya_lcm_latents")
    }
}
