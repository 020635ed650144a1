import Foundation
import Formats
import TestSupport
import XCTest

/// The identity score through the binary: `generate --json` and the PNG carry it when the
/// model ships an evaluator, and carry none when no scorer fits; `sweep` captions each cell;
/// `face-match` scores any image; a bad `--face-scorer` is one line.
final class IdentityScoreCLITests: XCTestCase {
    let golden = Fixtures.url("photoverse-golden")

    /// tiny-sd with the tiny PhotoVerse adapter, and with the tiny evaluator when `evaluator`.
    func model(in dir: URL, evaluator: Bool) throws -> URL {
        let model = dir.appendingPathComponent(evaluator ? "scored-model" : "plain-model")
        let manager = FileManager.default
        try manager.createDirectory(at: model, withIntermediateDirectories: true)
        for part in ["model_index.json", "scheduler", "text_encoder", "tokenizer", "unet", "vae"] {
            try manager.copyItem(at: Fixtures.url("tiny-sd/\(part)").resolvingSymlinksInPath(), to: model.appendingPathComponent(part))
        }
        try manager.copyItem(at: golden.appendingPathComponent("image_encoder"), to: model.appendingPathComponent("image_encoder"))
        try manager.copyItem(at: golden.appendingPathComponent("adapter.safetensors"), to: model.appendingPathComponent("photoverse-adapter.safetensors"))
        if evaluator {
            try manager.copyItem(at: Fixtures.url("mini-evaluator/evaluator"), to: model.appendingPathComponent("evaluator"))
        }
        return model
    }

    func generate(_ model: URL, out: URL, in dir: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        try PhotoverseBinary.run(["generate", "--model", model.path, "--reference", Fixtures.url("faces/tiny_face.png").path,
                                  "--crop", "none", "--prompt", "S* in the snow", "--steps", "2", "--out", out.path, "--json"], in: dir)
    }

    func testGenerateRecordsTheScoreWhenTheModelHasAnEvaluator() throws {
        let dir = Fixtures.temporaryDirectory("cli-score")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("scored.png")
        let run = try generate(try model(in: dir, evaluator: true), out: out, in: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        let record = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(record["file"] as? String, out.path)
        XCTAssertEqual((record["request"] as? [String: Any])?["prompt"] as? String, "S* in the snow")
        let score = try XCTUnwrap(record["identity_score"] as? [String: Any], run.stdout)
        XCTAssertEqual(score["scorer"] as? String, "mini evaluator")
        let match = try XCTUnwrap(score["match"] as? Double)
        XCTAssertTrue((0...1).contains(match))
        // the PNG holds the same score
        let chunk = try XCTUnwrap(try PNGCodec.readText(out)["photoverse-result"])
        XCTAssertTrue(chunk.contains("\"match\":\(match)"), chunk)
        // face-match on the saved result gives the same figure
        let check = try PhotoverseBinary.run(["face-match", out.path, Fixtures.url("faces/tiny_face.png").path,
                                              "--model", dir.appendingPathComponent("scored-model").path], in: dir)
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertEqual(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "face match \(String(format: "%.2f", match)), mini evaluator")
    }

    func testNoScorerNoScore() throws {
        let dir = Fixtures.temporaryDirectory("cli-score")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("plain.png")
        let run = try generate(try model(in: dir, evaluator: false), out: out, in: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        let record = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        XCTAssertNil(record["identity_score"], "absent, not faked: \(run.stdout)")
        XCTAssertNil(try PNGCodec.readText(out)["photoverse-result"])
    }

    func testBadFaceScorerFolderIsOneLine() throws {
        let dir = Fixtures.temporaryDirectory("cli-score")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try PhotoverseBinary.run(["generate", "--model", Fixtures.url("tiny-sd").path, "--prompt", "x", "--steps", "1",
                                            "--face-scorer", dir.appendingPathComponent("nowhere").path], in: dir)
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("nowhere/resnet.json: not found"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path), "nothing written")
    }

    func testSweepCaptionsEachCellWithItsScore() throws {
        let dir = Fixtures.temporaryDirectory("cli-score")
        defer { try? FileManager.default.removeItem(at: dir) }
        let scored = try model(in: dir, evaluator: true), plain = try model(in: dir, evaluator: false)
        func sweep(_ model: URL, _ name: String) throws -> (status: Int32, stdout: String, stderr: String) {
            try PhotoverseBinary.run(["sweep", "--model", model.path, "--reference", Fixtures.url("faces/tiny_face.png").path,
                                      "--crop", "none", "--prompt", "S*", "--steps", "2", "--seed", "3",
                                      "--x", "image-weight=0,1", "--out-dir", dir.appendingPathComponent(name).path], in: dir)
        }
        let run = try sweep(scored, "scored"), bare = try sweep(plain, "plain")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(bare.status, 0, bare.stderr)
        XCTAssertTrue(run.stderr.contains("x1-y1.png: image-weight=0, face match "), run.stderr)
        XCTAssertTrue(run.stderr.contains(", mini evaluator"), run.stderr)
        XCTAssertFalse(bare.stderr.contains("face match"), bare.stderr)
        for cell in ["x1-y1.png", "x2-y1.png"] {
            XCTAssertNotNil(try PNGCodec.readText(dir.appendingPathComponent("scored/\(cell)"))["photoverse-result"])
        }
        // the captions add a line under the cells of the scored sheet
        let withScores = try PNGCodec.read(dir.appendingPathComponent("scored/sheet.png"))
        let without = try PNGCodec.read(dir.appendingPathComponent("plain/sheet.png"))
        XCTAssertEqual(withScores.width, without.width)
        XCTAssertGreaterThan(withScores.height, without.height)
    }
}
