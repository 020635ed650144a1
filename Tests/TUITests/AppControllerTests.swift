import Formats
import Pipeline
import Terminal
import TestSupport
@testable import TUI
import XCTest

/// Keys and engine events against the UI state, with a queue that only records (the real
/// engine is tested on its own, and end to end).
final class AppControllerTests: XCTestCase {
    final class RecordingQueue: GenerationQueue {
        var jobs: [GenerationJob] = []
        var cancels = 0
        var busy = false
        func enqueue(_ jobs: [GenerationJob]) { self.jobs += jobs; busy = true }
        func cancelAll() -> Int { cancels += 1; return 2 }
        var waitingCount: Int { 0 }
        var isBusy: Bool { busy }
    }

    var queue: RecordingQueue!
    var saved: [UserConfig] = []
    var loadedReferences: [String] = []
    var folder: URL!

    override func setUp() {
        queue = RecordingQueue()
        folder = Fixtures.temporaryDirectory("controller")
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    func makeApp(_ config: UserConfig = UserConfig(), identity: Bool = false, shippedReferences: URL? = nil) -> AppController {
        let services = AppController.Services(
            queue: queue, loadReference: { [unowned self] path, _ in loadedReferences.append(path) },
            saveConfig: { [unowned self] in saved.append($0) }, openFile: { "file: \($0.path)" },
            trash: Trash(root: folder.appendingPathComponent("Trash")), themes: ThemeCatalog(folders: [ThemeTests.themesFolder]))
        let app = AppController(config: config, freshConfig: true, modelName: "tiny", outputFolder: folder.appendingPathComponent("out"),
                                themeName: "dark", services: services, shippedReferences: shippedReferences)
        app.apply(.modelLoaded(LoadedModel(name: "tiny", hasIdentity: identity, nativeSize: 64, loadSeconds: 0.1)))
        return app
    }

    func press(_ app: AppController, _ keys: Key...) { keys.forEach(app.handle) }

    func testFirstStartTakesTheModelsSize() {
        let app = makeApp()
        XCTAssertEqual(app.settings.request.width, 64)
        XCTAssertEqual(app.settings.request.height, 64)
    }

    func testAFirstStartBrowsesTheShippedFacesWhichAreUsedWhole() throws {
        let model = folder.appendingPathComponent("model")
        let shipped = model.appendingPathComponent("references")
        try FileManager.default.createDirectory(at: shipped, withIntermediateDirectories: true)
        let app = makeApp(shippedReferences: shipped)
        XCTAssertEqual(app.browseFolder.standardizedFileURL.path, shipped.standardizedFileURL.path)
        XCTAssertEqual(app.settings.crop, .auto)
        app.chooseReference(shipped.appendingPathComponent("heldout-0001.png"))
        XCTAssertEqual(app.settings.crop, CropMode.none, "a shipped face is already the encoder's crop")
        XCTAssertEqual(loadedReferences.last, shipped.appendingPathComponent("heldout-0001.png").path)
        XCTAssertTrue(app.currentMessage()?.text.contains("crop none") ?? false)
        app.chooseReference(folder.appendingPathComponent("me.jpg"))
        XCTAssertEqual(app.settings.crop, .auto, "the user's own photo after a shipped face: its face is found again")

        var config = UserConfig()
        config.browseFolder = folder.path
        XCTAssertEqual(makeApp(config, shippedReferences: shipped).browseFolder.standardizedFileURL.path,
                       folder.standardizedFileURL.path, "a folder browsed before wins")
    }

    func testGenerateQueuesTheBatchWithSeeds() {
        var config = UserConfig()
        config.settings.batch = 3
        config.settings.request.seed = 10
        config.settings.seedLocked = true
        let app = makeApp(config)
        press(app, .character("g"))
        XCTAssertEqual(queue.jobs.map(\.seed), [10, 11, 12], "a locked seed counts up")
        XCTAssertEqual(Set(queue.jobs.map(\.id)).count, 3)
        XCTAssertEqual(saved.last?.settings.batch, 3, "the config is saved at each generation")
        app.settings.seedLocked = false
        queue.jobs = []
        press(app, .character("g"))
        XCTAssertEqual(Set(queue.jobs.map(\.seed)).count, 3, "unlocked: a new seed per run")
        XCTAssertEqual(app.settings.request.seed, queue.jobs.last?.seed, "the last drawn seed is shown, ready to lock")
    }

    func testEscCancelsAndQuitAsksWhileBusy() {
        let app = makeApp()
        press(app, .character("g"), .escape)
        XCTAssertEqual(queue.cancels, 1)
        XCTAssertEqual(app.currentMessage()?.text, "stopping… (2 queued runs dropped)")
        press(app, .character("q"))
        XCTAssertEqual(app.overlay, .confirmQuit)
        press(app, .character("n"))
        XCTAssertNil(app.overlay)
        XCTAssertFalse(app.quitRequested)
        press(app, .character("q"), .character("y"))
        XCTAssertTrue(app.quitRequested)
        queue.busy = false
        let idle = makeApp()
        press(idle, .character("q"))
        XCTAssertTrue(idle.quitRequested, "nothing running: no question")
    }

    func testTabWalksThePanelsAndEditingTakesEveryKey() {
        let app = makeApp()
        XCTAssertEqual(app.focus, .prompt)
        press(app, .tab, .tab)
        XCTAssertEqual(app.focus, .parameters)
        press(app, .backTab, .backTab, .backTab)
        XCTAssertEqual(app.focus, .reference)
        press(app, .tab, .enter, .control("u"))
        XCTAssertTrue(app.editingText)
        for c in "q g t" { press(app, .character(c)) }
        XCTAssertTrue(queue.jobs.isEmpty && !app.quitRequested, "letters are text while editing")
        press(app, .enter)
        XCTAssertFalse(app.editingText)
        XCTAssertEqual(app.settings.request.prompt, "q g t")
        XCTAssertEqual(app.promptHistory.entries.last, "q g t")
    }

    func testParametersAdjustAndIdentityKnobsNeedAnAdapter() {
        let app = makeApp(identity: false)
        app.focus = .parameters
        press(app, .right)
        XCTAssertEqual(app.settings.request.guidance, 8)
        press(app, .down, .down, .down, .left)
        XCTAssertEqual(app.selectedField, .imageWeight)
        XCTAssertEqual(app.settings.request.identity.imageWeight, 1, "disabled without an adapter")
        XCTAssertEqual(app.currentMessage()?.isError, true)
        let withAdapter = makeApp(identity: true)
        withAdapter.focus = .parameters
        withAdapter.selectedField = .imageWeight
        press(withAdapter, .character("h"), .character("h"))
        XCTAssertEqual(withAdapter.settings.request.identity.imageWeight, 0.8, accuracy: 1e-6)
    }

    func testTypingAValue() {
        let app = makeApp()
        app.focus = .parameters
        app.selectedField = .steps
        press(app, .enter)
        XCTAssertEqual(app.overlay, .valueEntry(.steps))
        press(app, .control("u"), .character("4"), .character("0"), .enter)
        XCTAssertEqual(app.settings.request.steps, 40)
        press(app, .enter, .control("u"), .character("x"), .enter)
        XCTAssertEqual(app.settings.request.steps, 40)
        XCTAssertEqual(app.currentMessage()?.text, "Steps: 'x' is not a whole number")
    }

    func testEngineEventsDriveProgressPreviewAndGallery() throws {
        let app = makeApp()
        app.apply(.runStarted(id: 1, seed: 42))
        XCTAssertEqual(app.run?.seed, 42)
        let preview = RGBImage(width: 8, height: 8, color: .white)
        app.apply(.runProgress(id: 1, step: 3, total: 10, elapsed: 0.3, preview: preview))
        XCTAssertEqual(app.run?.step, 3)
        XCTAssertEqual(app.run?.secondsPerStep ?? 0, 0.1, accuracy: 1e-9)
        let first = try XCTUnwrap(app.previewImage?.version)
        app.apply(.runProgress(id: 1, step: 4, total: 10, elapsed: 0.4, preview: preview))
        XCTAssertNotEqual(app.previewImage?.version, first, "every step is a new picture")
        let url = folder.appendingPathComponent("photoverse-0001.png")
        app.apply(.runFinished(id: 1, url: url, image: RGBImage(width: 64, height: 64, color: .black),
                               record: GenerationRequest(prompt: "p"), seconds: 1))
        XCTAssertNil(app.run)
        XCTAssertEqual(app.gallery.selected?.url, url)
        XCTAssertEqual(app.previewImage?.image.width, 64, "the result replaces the preview")
        XCTAssertEqual(app.lastRun?.file, "photoverse-0001.png")
        app.apply(.runFailed(id: 2, message: "reference.png: no face found\nsecond line"))
        XCTAssertEqual(app.currentMessage()?.text, "reference.png: no face found second line", "one line")
    }

    func testAStaleReferenceLoadIsIgnored() {
        let app = makeApp()
        app.chooseReference(URL(fileURLWithPath: "/photos/new.png"))
        XCTAssertEqual(loadedReferences, ["/photos/new.png"])
        app.apply(.referenceLoaded(ReferencePhoto(path: "/photos/old.png", crop: .auto, photo: nil, face: nil, summary: "old", failed: false)))
        XCTAssertNil(app.reference)
        app.apply(.referenceLoaded(ReferencePhoto(path: "/photos/new.png", crop: .auto, photo: nil, face: nil, summary: "1 face", failed: false)))
        XCTAssertEqual(app.reference?.summary, "1 face")
    }

    func testGalleryReloadsParametersAndDeletesToTheTrash() throws {
        let out = folder.appendingPathComponent("out")
        var record = GenerationRequest(prompt: "a fox")
        record.seed = 99
        record.steps = 5
        let file = try record.save(RGBImage(width: 4, height: 4, color: .white), inFolder: out)
        let app = makeApp()
        app.focus = .gallery
        press(app, .character("r"))
        XCTAssertEqual(app.prompt.text, "a fox")
        XCTAssertEqual(app.settings.request.seed, 99)
        XCTAssertTrue(app.settings.seedLocked)
        press(app, .character("o"))
        XCTAssertEqual(app.currentMessage()?.text, "file: \(file.path)")
        press(app, .character("d"))
        XCTAssertEqual(app.overlay, .confirmDelete(file))
        press(app, .character("y"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: file.path))
        XCTAssertTrue(app.gallery.isEmpty)
    }

    func testThemeKeyCycles() {
        let app = makeApp()
        press(app, .character("t"))
        XCTAssertEqual(app.themeName, "light")
        press(app, .character("t"))
        XCTAssertEqual(app.themeName, "high-contrast")
    }
}
