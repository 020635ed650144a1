import Foundation
import Formats
import TensorCore
import TestSupport
import XCTest

/// Drives the real `photoverse` binary the way scripts do.
final class GenerateCommandTests: XCTestCase {
    /// The binary sits next to the test bundle in the build folder.
    var binary: URL {
        var folder = Bundle.main.bundleURL
        if folder.pathExtension == "xctest" { folder.deleteLastPathComponent() }
        return folder.appendingPathComponent("photoverse")
    }

    @discardableResult
    func run(_ arguments: [String], in directory: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    /// `--noise` in, `--latents-out` out: the same final latents as diffusers.
    func testNoiseContractMatchesDiffusers() throws {
        let golden = try SafetensorsFile(url: Fixtures.url("tiny-sd-golden/pipelines.safetensors"))
        let dir = Fixtures.temporaryDirectory("cli")
        for (name, scheduler) in [("ddim_cfg", "ddim"), ("euler_cfg", "euler"), ("dpmpp_2m_karras_cfg", "dpmpp-2m-karras")] {
            let noise = dir.appendingPathComponent("\(name)-noise.safetensors")
            try SafetensorsWriter.write(["latents": try golden.tensor("\(name)_noise")], to: noise)
            let latents = dir.appendingPathComponent("\(name)-latents.safetensors")
            let result = try run(["generate", "--model", Fixtures.url("tiny-sd").path,
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

    func testNeverOverwritesAndExplainsErrorsInOneLine() throws {
        let dir = Fixtures.temporaryDirectory("cli")
        let model = Fixtures.url("tiny-sd").path
        let first = try run(["generate", "--model", model, "--prompt", "a cat", "--steps", "1"], in: dir)
        let second = try run(["generate", "--model", model, "--prompt", "a cat", "--steps", "1"], in: dir)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertNotEqual(first.stdout, second.stdout, "a second run must get a new file name")
        let clash = try run(["generate", "--model", model, "--prompt", "a cat", "--steps", "1",
                             "--out", first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)], in: dir)
        XCTAssertEqual(clash.status, 1)
        XCTAssertTrue(clash.stderr.contains("already exists"), clash.stderr)
        let missing = try run(["generate", "--model", "/nonexistent-model", "--prompt", "x"], in: dir)
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("/nonexistent-model"))
    }

    func testPlannedCommandsSaySoWithStatus2() throws {
        let dir = Fixtures.temporaryDirectory("cli")
        let ui = try run(["ui"], in: dir)
        XCTAssertEqual(ui.status, 2)
        XCTAssertTrue(ui.stderr.contains("not implemented yet"), ui.stderr)
        let help = try run(["--help"], in: dir)
        for command in ["ui", "generate", "inspect", "bench"] { XCTAssertTrue(help.stdout.contains(command), command) }
    }
}
