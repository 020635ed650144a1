import Foundation
import Pipeline
import TestSupport
import XCTest

/// Issue 2.5's points as a person meets them, on the embedded model in a real terminal.
final class UIPointsEndToEndTests: XCTestCase {
    static let embeddedModel = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Models/mini")

    func testPickerPreviewGallerySelectionFocusTypedValuesAndScrollingHelp() throws {
        let home = Fixtures.temporaryDirectory("photoverse-tui")
        let ui = try TmuxSession(columns: 80, rows: 24, arguments: ["--model", Self.embeddedModel.path, "--images", "blocks"], home: home)
        addTeardownBlock { ui.close() }
        try ui.waitFor("ready")
        // The picker previews the highlighted photo in the big panel, with the crop it would get.
        try ui.send("BTab")
        try ui.send("Enter")
        try ui.waitFor("heldout-")
        try ui.send("Down")
        let picker = try ui.wait("the highlighted photo") { $0.contains("Photo · heldout-") && $0.contains("crop none") }
        XCTAssertTrue(picker.contains("╔═ Pick a reference photo"), "the picker is the focused box:\n\(picker)")
        try ui.send("Enter")
        try ui.waitFor("crop: none")
        // Typing a value replaces it; identity guidance says what "same" is.
        try ui.send("Tab", "Tab", "Tab")
        let parameters = try ui.waitFor("╔═ Parameters")
        XCTAssertTrue(parameters.contains("same (7.5)"), parameters)
        try ui.send("Enter")
        try ui.type("5")
        try ui.send("Enter")
        try ui.wait("guidance 5.0") { $0.contains("Prompt guidance") && $0.contains(" 5.0 ") && $0.contains("same (5.0)") }
        // Two results: the gallery marks the selected one under its thumbnail.
        try ui.send("g")
        try ui.waitFor("done: photoverse-0001.png", timeout: 60)
        try ui.send("g")
        try ui.waitFor("done: photoverse-0002.png", timeout: 60)
        try ui.send("Tab")
        try ui.resize(columns: 100, rows: 32)   // room for numbered thumbnails
        try ui.wait("the selected thumbnail marked") { $0.contains("╔═ Gallery 2/2") && $0.contains("▲ 2 ▲") }
        try ui.send("Left")
        try ui.waitFor("▲ 1 ▲")
        // Help taller than 80x24 scrolls, and says so.
        try ui.resize(columns: 80, rows: 24)
        try ui.waitFor("╔═ Gallery 1/2")
        try ui.send("?")
        let help = try ui.waitFor("↑↓ scroll")
        XCTAssertFalse(help.contains("File picker"), "the end is below:\n\(help)")
        try ui.send("PageDown", "PageDown", "PageDown")
        try ui.waitFor("File picker")
        try ui.send("x")
        try ui.wait("the help to close") { !$0.contains("Keys (any key closes)") }
        try ui.send("q")
        try ui.assertExitedRestored(status: 0)
    }
}

extension UIPointsEndToEndTests {
    /// `w`: a sweep over two knobs runs on the queue, its grid fills in the big panel, and
    /// Enter on a cell makes its settings the current ones.
    func testASweepFillsItsGridAndEnterLoadsACell() throws {
        let home = Fixtures.temporaryDirectory("photoverse-tui")
        let ui = try TmuxSession(columns: 110, rows: 36, arguments: ["--model", UIFixtures.plainModel.path, "--images", "blocks"], home: home)
        addTeardownBlock { ui.close() }
        try ui.waitFor("ready")
        try ui.send("w")
        try ui.waitFor("Sweep: one seed over a grid")
        try ui.send("C-u")
        try ui.type("x guidance=2,6 y steps=3,4")
        try ui.send("Enter")
        let grid = try ui.waitFor("Sweep 4/4 · x guidance · y steps", timeout: 60)
        XCTAssertTrue(grid.contains("2 · 3") && grid.contains("6 · 4"), grid)
        try ui.send("Right", "Down")
        try ui.waitFor("guidance=6 steps=4  (Enter loads it)")
        try ui.send("Enter")
        try ui.waitFor("loaded sweep cell guidance=6 steps=4")
        try ui.send("w")
        let back = try ui.wait("the parameters again") { !$0.contains("Sweep 4/4") && $0.contains("(locked)") }
        XCTAssertTrue(back.contains("Prompt guidance") && back.contains(" 6.0 "), back)
        XCTAssertEqual(UIFixtures.results(in: ui.outputFolder).count, 4, "every cell saved as a result")
        try ui.send("q")
        try ui.assertExitedRestored(status: 0)
    }
}
