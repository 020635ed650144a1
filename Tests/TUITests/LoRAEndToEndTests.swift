import Foundation
import Pipeline
import TestSupport
import XCTest

/// The LoRA list in a real terminal (tmux) on the tiny model: add a file from the picker, set
/// its scale, generate; change the scale and generate again on the same loaded model; remove it.
final class LoRAEndToEndTests: XCTestCase {
    func testAddALoRAChangeItsScaleBetweenRunsAndRemoveIt() throws {
        let home = Fixtures.temporaryDirectory("photoverse-tui-lora")
        let loras = home.appendingPathComponent("loras")
        try FileManager.default.createDirectory(at: loras, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixtures.url("lora-golden/kohya.safetensors"), to: loras.appendingPathComponent("kohya.safetensors"))
        try Data("not a LoRA".utf8).write(to: loras.appendingPathComponent("notes.txt"))
        let session = try TmuxSession(columns: 100, rows: 32, arguments: ["--model", UIFixtures.plainModel.path, "--images", "blocks"],
                                      home: home)
        addTeardownBlock { session.close() }
        try session.waitFor("ready")
        // Parameters (prompt → negative → parameters): `a` opens the picker for LoRA files (cwd = home: loras/ is the first folder).
        try session.send("Tab", "Tab")
        try session.send("a")
        try session.waitFor("Add a LoRA file")
        try session.send("Enter")
        let listing = try session.waitFor("kohya.safetensors")
        XCTAssertFalse(listing.contains("notes.txt"), "only .safetensors are offered")
        try session.send("Enter")
        try session.waitFor("LoRA kohya")
        try session.waitFor("◀ 1.0 ▶")
        try session.send("Left", "Left", "Left")
        try session.waitFor("◀ 0.7 ▶")
        try session.send("g")
        try session.waitFor("saved ~/Pictures/PhotoVerse/photoverse-0001.png", timeout: 60)
        // a new scale, typed, for the next run on the same model
        try session.send("Enter")
        try session.type("1.5")
        try session.send("Enter")
        try session.waitFor("◀ 1.5 ▶")
        try session.send("g")
        try session.waitFor("saved ~/Pictures/PhotoVerse/photoverse-0002.png", timeout: 60)
        let files = UIFixtures.results(in: session.outputFolder)
        XCTAssertEqual(files.map(\.lastPathComponent), ["photoverse-0001.png", "photoverse-0002.png"])
        let path = loras.appendingPathComponent("kohya.safetensors").standardizedFileURL.path
        XCTAssertEqual(try GenerationRequest.load(from: files[0]).loras, [LoRAChoice(path: path, scale: 0.7)])
        XCTAssertEqual(try GenerationRequest.load(from: files[1]).loras, [LoRAChoice(path: path, scale: 1.5)])
        // x removes it from the list
        try session.send("x")
        try session.waitFor("LoRA kohya.safetensors removed")
        try session.wait("the row to go") { !$0.contains("LoRA kohya ") }
        try session.send("q")
        try session.assertExitedRestored(status: 0)
    }
}
