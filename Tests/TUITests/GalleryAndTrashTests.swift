import Formats
import Pipeline
import TestSupport
@testable import TUI
import XCTest

final class GalleryAndTrashTests: XCTestCase {
    func testScansResultsWithTheirParameters() throws {
        let folder = Fixtures.temporaryDirectory("gallery")
        defer { try? FileManager.default.removeItem(at: folder) }
        var record = GenerationRequest(prompt: "one")
        record.seed = 5
        try record.save(RGBImage(width: 2, height: 2, color: .white), inFolder: folder)
        record.prompt = "two"
        try record.save(RGBImage(width: 2, height: 2, color: .black), inFolder: folder)
        try Data().write(to: folder.appendingPathComponent("other.png"))
        let gallery = Gallery.scan(folder)
        XCTAssertEqual(gallery.items.map(\.url.lastPathComponent), ["photoverse-0001.png", "photoverse-0002.png"])
        XCTAssertEqual(gallery.items.map { $0.record?.prompt }, ["one", "two"])
        XCTAssertEqual(gallery.selected?.record?.prompt, "two", "the newest is selected")
    }

    func testSelectionAndVisibleThumbnails() {
        var gallery = Gallery(items: (1...10).map { Gallery.Item(url: URL(fileURLWithPath: "/r/\($0).png"), record: nil) })
        XCTAssertEqual(gallery.selection, 9)
        XCTAssertEqual(gallery.visibleRange(slots: 4), 6..<10)
        gallery.moveToFirst()
        XCTAssertEqual(gallery.visibleRange(slots: 4), 0..<4)
        gallery.move(by: 5)
        XCTAssertEqual(gallery.visibleRange(slots: 4), 3..<7, "the selection stays in view, centred")
        gallery.moveToLast()
        gallery.removeSelected()
        XCTAssertEqual(gallery.selection, 8)
        XCTAssertEqual(gallery.items.count, 9)
    }

    func testTrashKeepsTheFileAndWhereItCameFrom() throws {
        let home = Fixtures.temporaryDirectory("trash")
        defer { try? FileManager.default.removeItem(at: home) }
        let trash = Trash(environment: ["HOME": home.path])
        XCTAssertEqual(trash.root.path, home.appendingPathComponent(".local/share/Trash").path)
        for round in 1...2 {
            let file = home.appendingPathComponent("photoverse-0001.png")
            try Data("image \(round)".utf8).write(to: file)
            let moved = try trash.move(file)
            XCTAssertFalse(FileManager.default.fileExists(atPath: file.path))
            XCTAssertEqual(moved.lastPathComponent, round == 1 ? "photoverse-0001.png" : "photoverse-0001.2.png", "no clobbering")
            let info = try String(contentsOf: trash.root.appendingPathComponent("info/\(moved.lastPathComponent).trashinfo"), encoding: .utf8)
            XCTAssertTrue(info.hasPrefix("[Trash Info]\nPath=\(file.path)\nDeletionDate="), info)
        }
        XCTAssertThrowsError(try trash.move(home.appendingPathComponent("missing.png"))) {
            XCTAssertTrue("\($0)".contains("missing.png: cannot move to the trash"), "\($0)")
        }
    }
}
