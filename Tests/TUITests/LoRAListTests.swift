import Foundation
import Pipeline
import Terminal
import TestSupport
@testable import TUI
import XCTest

/// The LoRA list under the knobs, driven by keys: added from the file picker (safetensors
/// only), its scale changed with the knobs' keys or typed, removed; the runs carry the list.
final class LoRAListTests: XCTestCase {
    var queue = AppControllerTests.RecordingQueue()
    var saved: [UserConfig] = []
    var folder: URL!

    override func setUp() { folder = Fixtures.temporaryDirectory("lora-list") }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    func makeApp() -> AppController {
        let services = AppController.Services(
            queue: queue, loadReference: { _, _ in }, saveConfig: { [unowned self] in saved.append($0) }, openFile: { $0.path },
            trash: Trash(root: folder.appendingPathComponent("Trash")), themes: ThemeCatalog(folders: [ThemeTests.themesFolder]))
        let app = AppController(config: UserConfig(), freshConfig: true, modelName: "tiny", outputFolder: folder.appendingPathComponent("out"),
                                themeName: "dark", services: services)
        app.apply(.modelLoaded(LoadedModel(name: "tiny", hasIdentity: false, nativeSize: 64, loadSeconds: 0.1)))
        return app
    }

    func press(_ app: AppController, _ keys: Key...) { keys.forEach(app.handle) }

    func testAddAdjustTypeRemoveAndRunsCarryTheList() throws {
        let app = makeApp()
        let loras = folder.appendingPathComponent("loras")
        try FileManager.default.createDirectory(at: loras, withIntermediateDirectories: true)
        for name in ["style.safetensors", "detail.safetensors"] {
            try FileManager.default.copyItem(at: Fixtures.url("lora-golden/kohya.safetensors"), to: loras.appendingPathComponent(name))
        }
        try Data("text".utf8).write(to: loras.appendingPathComponent("readme.txt"))
        try FileManager.default.copyItem(at: Fixtures.url("faces/astronaut.png"), to: loras.appendingPathComponent("face.png"))
        app.browseFolder = loras
        app.focus = .parameters
        // End goes past the knobs to the "add" row; Enter there opens the picker for LoRA files
        press(app, .end)
        XCTAssertEqual(app.selectedLoRA, 0)
        XCTAssertNil(app.selectedLoRAFile)
        press(app, .enter)
        XCTAssertEqual(app.overlay, .picker)
        XCTAssertEqual(app.pickerPurpose, .lora)
        XCTAssertEqual(app.picker?.entries.filter { $0.kind != .parent }.map(\.name), ["detail.safetensors", "style.safetensors"])
        press(app, .down, .enter)   // style
        XCTAssertNil(app.overlay)
        XCTAssertEqual(app.settings.request.loras, [LoRAChoice(path: loras.appendingPathComponent("style.safetensors").path, scale: 1)])
        XCTAssertEqual(app.selectedLoRAFile, 0)
        // ←→ step the scale by 0.1, PgUp/PgDn by 0.5, like the knobs
        press(app, .left, .left, .left)
        XCTAssertEqual(app.settings.request.loras[0].scale, 0.7, accuracy: 1e-6)
        press(app, .pageDown, .pageDown)
        XCTAssertEqual(app.settings.request.loras[0].scale, -0.3, accuracy: 1e-6)
        // a second file from `a`, anywhere in the panel; the picker remembers its folder
        press(app, .home, .character("a"))
        XCTAssertEqual(app.picker?.folder.path, loras.standardizedFileURL.path)
        press(app, .enter)   // detail
        XCTAssertEqual(app.settings.request.loras.map { URL(fileURLWithPath: $0.path).lastPathComponent },
                       ["style.safetensors", "detail.safetensors"])
        XCTAssertEqual(app.selectedLoRAFile, 1)
        // Enter types the scale; a bad value is one line and changes nothing
        press(app, .enter, .character("2"), .character("."), .character("5"), .enter)
        XCTAssertEqual(app.settings.request.loras[1].scale, 2.5)
        press(app, .enter, .character("1"), .character("1"), .enter)
        XCTAssertEqual(app.settings.request.loras[1].scale, 2.5)
        XCTAssertTrue(app.currentMessage()?.text.contains("LoRA scale: '11' is not a number in -10.0…10.0") ?? false)
        // the status line explains the row; x removes a file (not the "add" row)
        XCTAssertTrue(KeyHints.line(for: app).contains("LoRA detail.safetensors: scale"), KeyHints.line(for: app))
        XCTAssertTrue(KeyHints.line(for: app).contains("x remove LoRA"))
        // every run of a batch carries the list with its scales
        app.settings.batch = 2
        press(app, .character("g"))
        XCTAssertEqual(queue.jobs.count, 2)
        for job in queue.jobs {
            XCTAssertEqual(job.settings.request.loras.map(\.scale), [-0.3, 2.5].map { Float($0) })
        }
        press(app, .up, .character("x"))
        XCTAssertEqual(app.settings.request.loras.map { URL(fileURLWithPath: $0.path).lastPathComponent }, ["detail.safetensors"])
        press(app, .down, .character("x"))   // the "add" row: nothing to remove
        XCTAssertEqual(app.settings.request.loras.count, 1)
        XCTAssertFalse(KeyHints.line(for: app).contains("x remove LoRA"))
        // the list is saved with the settings
        XCTAssertEqual(saved.last?.settings.request.loras.count, 1)
        // a file that has gone is marked in its row
        XCTAssertEqual(AppController.loraRow(app.settings.request.loras[0]).value, "2.5")
        try FileManager.default.removeItem(at: loras.appendingPathComponent("detail.safetensors"))
        XCTAssertEqual(AppController.loraRow(app.settings.request.loras[0]).value, "missing · 2.5")
    }

    func testTheReferencePickerStillListsPhotosOnly() throws {
        let app = makeApp()
        try FileManager.default.copyItem(at: Fixtures.url("lora-golden/peft.safetensors"),
                                         to: folder.appendingPathComponent("peft.safetensors"))
        try FileManager.default.copyItem(at: Fixtures.url("faces/astronaut.png"), to: folder.appendingPathComponent("face.png"))
        app.browseFolder = folder
        app.focus = .reference
        press(app, .enter)
        XCTAssertEqual(app.pickerPurpose, .reference)
        XCTAssertEqual(app.picker?.entries.filter { $0.kind != .parent && $0.kind != .folder }.map(\.name), ["face.png"])
    }
}
