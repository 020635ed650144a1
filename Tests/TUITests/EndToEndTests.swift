import Formats
import Foundation
import Pipeline
import TestSupport
import XCTest

/// The real binary in a real terminal (tmux) on the tiny model: what a user does, and that
/// the terminal is always given back in good order.
final class EndToEndTests: XCTestCase {
    func startUI(columns: Int = 100, rows: Int = 32, subcommand: [String] = ["ui"], model: URL = UIFixtures.plainModel,
                 extra: [String] = [], environment: [String: String] = [:], home: URL? = nil) throws -> TmuxSession {
        let session = try TmuxSession(columns: columns, rows: rows, subcommand: subcommand,
                                      arguments: ["--model", model.path, "--images", "blocks"] + extra,
                                      environment: environment, home: home)
        addTeardownBlock { session.close() }
        try session.waitFor("ready")
        return session
    }

    func testStartsWithEveryPanelAndQuitsRestoringTheTerminal() throws {
        let ui = try startUI(subcommand: [])   // bare `photoverse` opens the UI
        let screen = try ui.screen()
        for panel in ["PhotoVerse", "Reference", "Prompt", "Negative:", "Parameters", "Preview", "Gallery", "? help"] {
            XCTAssertTrue(screen.contains(panel), "missing \(panel):\n\(screen)")
        }
        XCTAssertTrue(screen.contains("a photo of S* as an astronaut"), screen)
        XCTAssertEqual(try ui.query("#{alternate_on}"), "1", "the UI runs on the alternate screen")
        try ui.send("?")
        try ui.waitFor("Keys (any key closes)")
        try ui.send("Escape")
        try ui.wait("the help to close") { !$0.contains("Keys (any key closes)") }
        try ui.send("q")
        try ui.assertExitedRestored(status: 0)
    }

    func testPickReferenceEditPromptChangeWeightGenerateAndUseTheGallery() throws {
        let home = Fixtures.temporaryDirectory("photoverse-tui")
        try UIFixtures.facePhotos(in: home)
        let model = try UIFixtures.identityModel(in: home)
        let ui = try startUI(model: model, home: home)
        // Reference: the picker browses folders and lists only images.
        try ui.send("BTab")
        try ui.send("Enter")
        try ui.waitFor("faces/")
        try ui.send("Enter")
        let listing = try ui.waitFor("astronaut.png")
        XCTAssertFalse(listing.contains("notes.txt"), "only images are listed")
        try ui.send("Enter")
        try ui.waitFor("1 face · crop 1.3x")
        // Prompt: edit it.
        try ui.send("Tab")
        try ui.send("Enter")
        try ui.send("C-u")
        try ui.type("a portrait of S* in a garden")
        try ui.send("Enter")
        try ui.waitFor("a portrait of S* in a garden")
        // Parameters: image weight σ from 1.0 to 0.7.
        try ui.send("Tab", "Tab")
        try ui.send("Down", "Down", "Down")
        try ui.waitFor("◀ 1.0 ▶")
        try ui.send("Left", "Left", "Left")
        try ui.waitFor("◀ 0.7 ▶")
        // Generate: progress, then the finished file in the gallery and on disk.
        try ui.send("g")
        let done = try ui.waitFor("done: photoverse-0001.png", timeout: 30)
        XCTAssertTrue(done.contains("Gallery 1/1"), done)
        let files = UIFixtures.results(in: ui.outputFolder)
        XCTAssertEqual(files.map(\.lastPathComponent), ["photoverse-0001.png"])
        let record = try GenerationRequest.load(from: files[0])
        XCTAssertEqual(record.prompt, "a portrait of S* in a garden")
        XCTAssertEqual(record.identity.imageWeight, 0.7, accuracy: 1e-6)
        XCTAssertEqual(record.identity.references.first.map { URL(fileURLWithPath: $0.path).lastPathComponent }, "astronaut.png")
        // Gallery: compare, show the path, delete to the trash.
        try ui.send("Tab")
        try ui.send("c")
        try ui.waitFor("result (c: back)")
        try ui.send("o")
        try ui.waitFor("file: ~/Pictures/PhotoVerse/photoverse-0001.png")
        try ui.send("d")
        try ui.waitFor("to the trash?")
        try ui.send("y")
        try ui.waitFor("moved photoverse-0001.png to the trash")
        XCTAssertFalse(FileManager.default.fileExists(atPath: files[0].path))
        let trashed = home.appendingPathComponent(".local/share/Trash")
        XCTAssertTrue(FileManager.default.fileExists(atPath: trashed.appendingPathComponent("files/photoverse-0001.png").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: trashed.appendingPathComponent("info/photoverse-0001.png.trashinfo").path))
        try ui.send("q")
        try ui.assertExitedRestored(status: 0)
        // The config remembers the parameters for the next start.
        let config = try String(contentsOf: home.appendingPathComponent(".config/photoverse/config.json"), encoding: .utf8)
        XCTAssertTrue(config.contains("a portrait of S* in a garden"), config)
    }

    /// Sets the Steps row (the 7th) by typing a value.
    func setSteps(_ steps: Int, batch: Int = 1, in ui: TmuxSession) throws {
        try ui.send("Tab", "Tab")   // prompt -> negative -> parameters
        for _ in 0..<6 { try ui.send("Down") }
        try ui.send("Enter")
        try ui.send("C-u")
        try ui.type("\(steps)")
        try ui.send("Enter")
        try ui.waitFor("◀ \(steps) ▶")
        if batch > 1 {
            for _ in 0..<3 { try ui.send("Down") }
            for _ in 1..<batch { try ui.send("Right") }
            try ui.waitFor("◀ \(batch) ▶")
        }
    }

    func testEscCancelsTheRunAndDropsTheQueue() throws {
        let ui = try startUI()
        try setSteps(150, batch: 3, in: ui)
        try ui.send("g")
        let running = try ui.wait("progress") { $0.contains("/150") && $0.contains("s/step") && $0.contains("ETA") }
        XCTAssertTrue(running.contains("+2 queued"), running)
        try ui.send("Escape")
        let cancelled = try ui.waitFor("run cancelled at step")
        XCTAssertFalse(cancelled.contains("done: photoverse"), cancelled)
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(UIFixtures.results(in: ui.outputFolder), [], "a cancelled run writes nothing, the queue is dropped")
        try ui.send("q")
        try ui.assertExitedRestored(status: 0)
    }

    func testQuitDuringARunAsksFirst() throws {
        let ui = try startUI()
        try setSteps(150, in: ui)
        try ui.send("g")
        try ui.waitFor("/150")
        try ui.send("q")
        try ui.waitFor("A run is going. Quit anyway?")
        try ui.send("y")
        try ui.assertExitedRestored(status: 0)
    }

    func testResizeRelaysOutAndATooSmallTerminalSaysSo() throws {
        let ui = try startUI()
        try ui.resize(columns: 70, rows: 20)
        let small = try ui.waitFor("Terminal too small: 70x20")
        XCTAssertTrue(small.contains("at least 80x24"), small)
        XCTAssertFalse(small.contains("Parameters"), "no broken layout: \(small)")
        try ui.resize(columns: 120, rows: 40)
        // A capture may land in the middle of a frame: wait for the whole taller layout.
        try ui.wait("the panels again, with more parameter rows") {
            $0.contains("Parameters") && !$0.contains("too small") && $0.contains("Image until")
        }
        try ui.send("q")
        try ui.assertExitedRestored(status: 0)
    }

    func testThemesSwitchAtRunTimeAndNoColorMeansNoColour() throws {
        let ui = try startUI(extra: ["--theme", "light"])
        XCTAssertTrue(try ui.screenWithEscapes().contains("48;5;255m"), "light.theme's #f5f5f5 background")
        try ui.send("t")
        try ui.waitFor("· high-contrast")
        XCTAssertTrue(try ui.screenWithEscapes().contains("\u{1B}[93m"), "bright-yellow titles")
        try ui.send("q")
        try ui.assertExitedRestored(status: 0)

        let plain = try startUI(environment: ["NO_COLOR": "1"])
        try plain.send("g")
        try plain.waitFor("done: photoverse-0001.png")
        let screen = try plain.screenWithEscapes()
        XCTAssertEqual(Self.colourParameters(in: screen), [], "no colours at all with NO_COLOR")
        XCTAssertTrue(screen.contains("▒") || screen.contains("░") || screen.contains("▓"), "the image as grey shading")
        try plain.send("q")
        try plain.assertExitedRestored(status: 0)
    }

    /// The SGR parameters in `text` that set a colour (30-37, 38, 40-47, 48, 90-97, 100-107;
    /// 39 and 49, back to the default, do not count).
    static func colourParameters(in text: String) -> [String] {
        var found: [String] = []
        for sequence in text.components(separatedBy: "\u{1B}[").dropFirst() {
            guard let end = sequence.firstIndex(of: "m") else { continue }
            let parameters = sequence[..<end].split(separator: ";")
            guard parameters.allSatisfy({ Int($0) != nil }) else { continue }
            for parameter in parameters.compactMap({ Int($0) }) where
                (30...38).contains(parameter) || (40...48).contains(parameter) || (90...97).contains(parameter) || (100...107).contains(parameter) {
                found.append(String(sequence[..<end]))
            }
        }
        return found
    }

    func testSIGTERMLeavesTheTerminalRestored() throws {
        let ui = try startUI()
        let pid = try XCTUnwrap(try ui.programPID(), "photoverse is running")
        kill(pid, SIGTERM)
        try ui.assertExitedRestored(status: 128 + Int(SIGTERM))
    }

    func testACrashLeavesTheTerminalRestored() throws {
        let ui = try startUI()
        let pid = try XCTUnwrap(try ui.programPID(), "photoverse is running")
        kill(pid, SIGSEGV)
        try ui.assertExitedRestored(status: 128 + Int(SIGSEGV))
    }

    func testLoadsARunFromAPNGsParameters() throws {
        let home = Fixtures.temporaryDirectory("photoverse-tui")
        var record = GenerationRequest(prompt: "a red fox in the snow")
        record.seed = 1234
        record.steps = 9
        record.guidance = 4.5
        let png = try record.save(RGBImage(width: 8, height: 8, color: .white), inFolder: home.appendingPathComponent("old"))
        let ui = try startUI(extra: ["--load", png.path], home: home)
        let screen = try ui.waitFor("a red fox in the snow")
        XCTAssertTrue(screen.contains("1234 (locked)"), screen)
        XCTAssertTrue(screen.contains("4.5"), screen)
        try ui.send("q")
        try ui.assertExitedRestored(status: 0)
    }

    /// While the engine runs: the screen keeps updating (the step counter moves), the preview
    /// arrives (the UI traces it), and a burst of keys typed at once is handled in order. No time
    /// limits: how fast (first preview, key latency from the moment a key reaches the terminal)
    /// is measured by scripts/bench-ui.sh, not asserted here.
    func testPreviewArrivesAndKeysAreHandledInOrderDuringAGeneration() throws {
        let home = Fixtures.temporaryDirectory("photoverse-tui")
        let trace = home.appendingPathComponent("trace.txt")
        let ui = try startUI(environment: ["PHOTOVERSE_TRACE": trace.path], home: home)
        try setSteps(400, batch: 2, in: ui)
        try ui.send("g")
        let first = Self.step(of: 400, in: try ui.waitFor("/400", timeout: 30))
        try ui.wait(timeout: 60, "the step counter to move past \(first ?? 0)") { (Self.step(of: 400, in: $0) ?? 0) > (first ?? 0) }
        // Parameters -> negative prompt; edit it with one burst of keys while the run goes on.
        try ui.send("BTab")
        try ui.send("Enter")
        try ui.send("C-u")
        try ui.type("zyxw vuts 9876")
        try ui.send("Enter")
        let edited = try ui.waitFor("zyxw vuts 9876", timeout: 30)
        XCTAssertNotNil(Self.step(of: 400, in: edited), "the run is still going: \(edited)")
        try ui.send("Escape")
        try ui.waitFor("run cancelled", timeout: 30)
        XCTAssertFalse(try Self.traced("first-preview", in: trace).isEmpty, "the preview arrived (traced when first drawn)")
        XCTAssertGreaterThanOrEqual(try Self.traced("key", in: trace).count, 14, "every key was read and a frame drawn")
        try ui.send("q")
        try ui.assertExitedRestored(status: 0)
    }

    /// The step shown in the status line's "N/total", if a run is showing.
    static func step(of total: Int, in screen: String) -> Int? {
        guard let range = screen.range(of: "[0-9]+/\(total)", options: .regularExpression) else { return nil }
        return Int(screen[range].split(separator: "/")[0])
    }

    /// The milliseconds of every `event` line in a PHOTOVERSE_TRACE file.
    static func traced(_ event: String, in trace: URL) throws -> [Double] {
        try String(contentsOf: trace, encoding: .utf8).split(separator: "\n")
            .filter { $0.hasPrefix(event + " ") }.compactMap { Double($0.split(separator: " ")[1]) }
    }

    static let embeddedModel = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Models/mini")

    /// The model that ships with the app, as a first-time user meets it: the picker opens on the
    /// shipped faces, one is picked (used whole), `g` shows a preview and the result is saved
    /// with its parameters (how soon the preview comes: scripts/bench-ui.sh).
    func testEmbeddedModelPickAShippedFaceGenerateAndSave() throws {
        let home = Fixtures.temporaryDirectory("photoverse-tui")
        let trace = home.appendingPathComponent("trace.txt")
        let ui = try startUI(model: Self.embeddedModel, environment: ["PHOTOVERSE_TRACE": trace.path], home: home)
        try ui.send("BTab")
        try ui.send("Enter")
        try ui.waitFor("heldout-")
        try ui.send("Enter")
        try ui.waitFor("crop none")
        try ui.send("g")
        try ui.waitFor("done: photoverse-0001.png", timeout: 60)
        let files = UIFixtures.results(in: ui.outputFolder)
        XCTAssertEqual(files.map(\.lastPathComponent), ["photoverse-0001.png"])
        let record = try GenerationRequest.load(from: files[0])
        XCTAssertTrue(record.prompt.contains("S*"), record.prompt)
        XCTAssertEqual(record.identity.references.first?.crop, CropMode.none)
        XCTAssertTrue(record.identity.references.first?.path.contains("Models/mini/references/heldout-") ?? false, "\(record.identity.references)")
        XCTAssertFalse(try Self.traced("first-preview", in: trace).isEmpty, "a preview was drawn before the result")
        try ui.send("q")
        try ui.assertExitedRestored(status: 0)
    }
}
