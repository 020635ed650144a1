import Foundation
import Formats
import TestSupport
import XCTest

/// `photoverse sweep` through the binary: one request over a grid, each cell exactly what
/// `generate` gives for its settings, and a labelled sheet that holds every cell.
final class SweepCommandTests: XCTestCase {
    func testAGridOfCellsAndItsSheet() throws {
        let dir = Fixtures.temporaryDirectory("cli-sweep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = Fixtures.url("tiny-sd").path
        let out = dir.appendingPathComponent("grid")
        let run = try PhotoverseBinary.run(["sweep", "--model", model, "--prompt", "a red fox", "--steps", "3", "--seed", "11",
                                            "--x", "guidance=1,5", "--y", "steps=2,3", "--out-dir", out.path], in: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines), out.appendingPathComponent("sheet.png").path)
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        XCTAssertEqual(names, ["sheet.png", "x1-y1.png", "x1-y2.png", "x2-y1.png", "x2-y2.png"])
        // Each cell is the request it says it is, and generate reproduces it bit for bit.
        let cell = out.appendingPathComponent("x2-y1.png")
        let text = try PNGCodec.readText(cell)["photoverse"] ?? ""
        XCTAssertTrue(text.contains("\"guidance\":5") && text.contains("\"steps\":2") && text.contains("\"seed\":11"), text)
        let again = dir.appendingPathComponent("again.png")
        let rerun = try PhotoverseBinary.run(["generate", "--load", cell.path, "--out", again.path], in: dir)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertEqual(try PNGCodec.read(again), try PNGCodec.read(cell))
        XCTAssertNotEqual(try PNGCodec.read(out.appendingPathComponent("x1-y1.png")), try PNGCodec.read(cell), "the knob changes the image")
        // The sheet holds the four 64x64 cells (drawn 2x) with room for the labels.
        let sheet = try PNGCodec.read(out.appendingPathComponent("sheet.png"))
        XCTAssertGreaterThan(sheet.width, 2 * 128)
        XCTAssertGreaterThan(sheet.height, 2 * 128)
        // A second sweep into the same folder is refused: nothing is overwritten.
        let clash = try PhotoverseBinary.run(["sweep", "--model", model, "--prompt", "x", "--x", "guidance=1,2", "--out-dir", out.path], in: dir)
        XCTAssertEqual(clash.status, 1)
        XCTAssertTrue(clash.stderr.contains("already exists"), clash.stderr)
    }

    func testBadAxesAreOneLine() throws {
        let dir = Fixtures.temporaryDirectory("cli-sweep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = Fixtures.url("tiny-sd").path
        for (axis, expected) in [("brightness=1,2", "expected KNOB=V1,V2"), ("guidance=1,nan", "finite numbers"),
                                 ("steps=0,2", "--steps 0 is outside")] {
            let run = try PhotoverseBinary.run(["sweep", "--model", model, "--prompt", "x", "--x", axis], in: dir)
            XCTAssertEqual(run.status, 1, axis)
            XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
            XCTAssertTrue(run.stderr.contains(expected), "\(axis): \(run.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path), "nothing made for a refused sweep")
    }
}
