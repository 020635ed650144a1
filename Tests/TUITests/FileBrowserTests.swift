import TestSupport
@testable import TUI
import XCTest

final class FileBrowserTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = Fixtures.temporaryDirectory("browser")
        let manager = FileManager.default
        for folder in ["b-folder", "a-folder", ".hidden"] {
            try manager.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        for file in ["me.JPG", "face 2.png", "face 10.png", "notes.txt", "model.safetensors", ".secret.png"] {
            try Data().write(to: root.appendingPathComponent(file))
        }
        try Data().write(to: root.appendingPathComponent("a-folder/inside.jpeg"))
    }

    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    func testListsFoldersThenImagesOnly() {
        let browser = FileBrowser(folder: root)
        XCTAssertEqual(browser.entries.map(\.name), ["..", "a-folder", "b-folder", "face 2.png", "face 10.png", "me.JPG"])
        XCTAssertEqual(browser.selected?.name, "a-folder", "the first real entry, not ..")
    }

    func testEntersFoldersChoosesImagesAndGoesBackUp() {
        var browser = FileBrowser(folder: root)
        XCTAssertNil(browser.activate(), "a folder opens")
        XCTAssertEqual(browser.folder.lastPathComponent, "a-folder")
        XCTAssertEqual(browser.selected?.name, "inside.jpeg")
        XCTAssertEqual(browser.activate()?.lastPathComponent, "inside.jpeg")
        browser.goUp()
        XCTAssertEqual(browser.folder.standardizedFileURL.path, root.standardizedFileURL.path)
        XCTAssertEqual(browser.selected?.name, "a-folder", "the folder just left stays selected")
    }

    func testFilterNarrowsByName() {
        var browser = FileBrowser(folder: root)
        for c in "FACE 1" { browser.typeFilter(c) }
        XCTAssertEqual(browser.entries.map(\.name), ["..", "face 10.png"])
        XCTAssertEqual(browser.selected?.name, "face 10.png")
        browser.deleteFilterCharacter()
        XCTAssertEqual(browser.entries.count, 3)
    }

    func testMovementIsClamped() {
        var browser = FileBrowser(folder: root)
        browser.move(by: -10)
        XCTAssertEqual(browser.selection, 0)
        browser.move(by: 100)
        XCTAssertEqual(browser.selected?.name, "me.JPG")
    }

    func testAnUnreadableFolderSaysSo() {
        let browser = FileBrowser(folder: root.appendingPathComponent("missing"))
        XCTAssertEqual(browser.problem, "\(root.appendingPathComponent("missing").standardizedFileURL.path): cannot list this folder")
    }
}
