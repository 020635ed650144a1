import Foundation
import Formats
import Pipeline
import TestSupport
@testable import TUI
import XCTest

/// The identity score in the UI: on the controller (a finished run's score reaches the gallery
/// line and the sweep cell; earlier results get theirs from the PNG), and in a real terminal
/// on a model that ships an evaluator (the gallery, the compare view and a sweep show it).
extension AppControllerTests {
    func testAScoredResultCarriesItsScoreToTheGalleryAndTheSweep() throws {
        let app = makeApp()
        let url = folder.appendingPathComponent("photoverse-0001.png")
        let score = IdentityScore(match: 0.82, scorer: "dlib", distance: 0.216)
        app.apply(.runFinished(id: 1, url: url, image: RGBImage(width: 8, height: 8, color: .black),
                               record: GenerationRequest(prompt: "p"), seconds: 1, score: score))
        XCTAssertEqual(app.gallery.selected?.score, score)
        XCTAssertTrue(GalleryPanelView.describe(try XCTUnwrap(app.gallery.selected)).hasPrefix("photoverse-0001.png · face match 0.82, dlib · "))
        app.apply(.runFinished(id: 2, url: folder.appendingPathComponent("photoverse-0002.png"),
                               image: RGBImage(width: 8, height: 8, color: .black), record: GenerationRequest(prompt: "p"), seconds: 1))
        XCTAssertNil(app.gallery.selected?.score)
        XCTAssertFalse(GalleryPanelView.describe(try XCTUnwrap(app.gallery.selected)).contains("face match"), "no score, no figure")
    }

    func testGalleryScanReadsEachResultsScore() throws {
        let request = GenerationRequest(prompt: "p")
        let score = IdentityScore(match: 0.64, scorer: "mini evaluator")
        try request.save(RGBImage(width: 8, height: 8, color: .white), inFolder: folder, score: score)
        try request.save(RGBImage(width: 8, height: 8, color: .white), inFolder: folder)
        let gallery = Gallery.scan(folder)
        XCTAssertEqual(gallery.items.map(\.score), [score, nil])
    }
}

final class IdentityScoreEndToEndTests: XCTestCase {
    /// The tiny PhotoVerse model with the tiny evaluator (Tests/Fixtures/mini-evaluator): every
    /// result is scored by it, as PhotoVerse-mini's are.
    func testTheScoreShowsInTheGalleryTheCompareViewAndASweep() throws {
        let home = Fixtures.temporaryDirectory("photoverse-tui")
        try UIFixtures.facePhotos(in: home)
        let model = try UIFixtures.identityModel(in: home)
        try FileManager.default.copyItem(at: Fixtures.url("mini-evaluator/evaluator"), to: model.appendingPathComponent("evaluator"))
        let ui = try TmuxSession(columns: 110, rows: 36, arguments: ["--model", model.path, "--images", "blocks"], home: home)
        addTeardownBlock { ui.close() }
        try ui.waitFor("ready")
        try ui.send("BTab")
        try ui.send("Enter")
        try ui.waitFor("faces/")
        try ui.send("Enter")
        try ui.waitFor("astronaut.png")
        try ui.send("Enter")
        try ui.waitFor("1 face · crop 1.3x")
        try ui.send("g")
        try ui.waitFor("done: photoverse-0001.png", timeout: 60)
        let saved = try XCTUnwrap(UIFixtures.results(in: ui.outputFolder).first)
        let score = try XCTUnwrap(ResultRecord.load(from: saved)?.identityScore)
        let figure = "face match \(String(format: "%.2f", score.match)), mini evaluator"
        // the gallery's line about the selected result
        for _ in 0..<4 where !(try ui.screen()).contains("╔═ Gallery") {
            try ui.send("Tab")
            Thread.sleep(forTimeInterval: 0.3)
        }
        try ui.wait("the score in the gallery") { $0.contains("╔═ Gallery 1/1") && $0.contains(figure) }
        // the compare view, beside the reference
        try ui.send("c")
        let compare = try ui.waitFor("result (c: back)")
        XCTAssertEqual(compare.components(separatedBy: figure).count, 3, "the gallery line and the compare view:\n\(compare)")
        try ui.send("c")
        // a sweep: each cell's score under it, the selected cell's in full
        try ui.send("w")
        try ui.waitFor("Sweep: one seed over a grid")
        try ui.send("C-u")
        try ui.type("x image-weight=0,1")
        try ui.send("Enter")
        let grid = try ui.wait(timeout: 60, "the filled grid") {
            $0.contains("Sweep 2/2 · x image-weight") && $0.contains("(Enter loads it)")
        }
        let cells = UIFixtures.results(in: ui.outputFolder).dropFirst()
        XCTAssertEqual(cells.count, 2)
        for cell in cells {
            let cellScore = try XCTUnwrap(ResultRecord.load(from: cell)?.identityScore)
            XCTAssertTrue(grid.contains(" · \(cellScore.shortText)"), "cell caption with \(cellScore.shortText):\n\(grid)")
        }
        let first = try XCTUnwrap(ResultRecord.load(from: try XCTUnwrap(cells.first))?.identityScore)
        XCTAssertTrue(grid.contains("image-weight=0  (Enter loads it)"), grid)
        let lines = grid.components(separatedBy: "\n")
        let hint = try XCTUnwrap(lines.firstIndex { $0.contains("(Enter loads it)") })
        XCTAssertTrue(lines[hint + 1].contains(first.description), "the selected cell's score in full under it:\n\(grid)")
        try ui.send("w")
        try ui.send("q")
        try ui.assertExitedRestored(status: 0)
    }
}
