import Foundation
import Formats
import Pipeline
import Terminal
@testable import TUI
import XCTest

/// Issue 2.5's points on the controller: typed values replace, the quit question outlives the run,
/// the progress line tells how the last run ended, a user's photo after a shipped face is cropped.
extension AppControllerTests {
    func testTypedValuesReplaceTheOldOne() {
        let app = makeApp()
        app.focus = .parameters
        app.selectedField = .guidance
        press(app, .enter, .character("2"), .enter)
        XCTAssertEqual(app.settings.request.guidance, 2, "typing replaces 7.5, not 7.52")
        press(app, .enter, .end, .character("5"), .enter)
        XCTAssertEqual(app.settings.request.guidance, 2.05, accuracy: 1e-6, "after an editing key, typing edits \"2.0\"")
    }

    /// A y typed as the run ends still quits: the question stays open and stops naming the run
    /// (closing it under the user's y lost the y, and the app went on running).
    func testTheQuitQuestionOutlivesTheRunAndItsYStillQuits() {
        let app = makeApp()
        press(app, .character("g"))
        app.apply(.runStarted(id: 1, seed: 5))
        press(app, .character("q"))
        XCTAssertEqual(app.overlay, .confirmQuit)
        XCTAssertEqual(KeyHints.line(for: app), "y quit (stops the run)  n stay")
        queue.busy = false
        app.apply(.runCancelled(id: 1))
        XCTAssertEqual(app.overlay, .confirmQuit, "the question is still there for the y on its way")
        XCTAssertEqual(KeyHints.line(for: app), "y quit  n stay", "no run is at stake any more")
        XCTAssertFalse(app.quitRequested)
        press(app, .character("y"))
        XCTAssertTrue(app.quitRequested)
        let staying = makeApp()
        press(staying, .character("g"))
        press(staying, .character("q"))
        queue.busy = false
        staying.apply(.runCancelled(id: 1))
        press(staying, .character("n"))
        XCTAssertNil(staying.overlay)
        XCTAssertFalse(staying.quitRequested)
    }

    func testTheProgressLineSaysTheLastRunStopped() {
        let app = makeApp()
        let url = folder.appendingPathComponent("photoverse-0001.png")
        app.apply(.runFinished(id: 1, url: url, image: RGBImage(width: 4, height: 4, color: .black),
                               record: GenerationRequest(prompt: "p"), seconds: 1))
        press(app, .character("g"))
        app.apply(.runStarted(id: 2, seed: 5))
        app.apply(.runProgress(id: 2, step: 3, total: 25, elapsed: 0.3, preview: RGBImage(width: 4, height: 4, color: .black)))
        queue.busy = false
        app.apply(.runCancelled(id: 2))
        XCTAssertEqual(app.lastStop, "stopped at step 3/25", "not the previous run's done")
        app.apply(.runFinished(id: 3, url: url, image: RGBImage(width: 4, height: 4, color: .black),
                               record: GenerationRequest(prompt: "p"), seconds: 1))
        XCTAssertNil(app.lastStop)
    }

    func testAModelsExamplePromptAndDomainGuideAFirstStart() {
        let services = AppController.Services(
            queue: queue, loadReference: { _, _ in }, saveConfig: { _ in }, openFile: { "file: \($0.path)" },
            trash: Trash(root: folder.appendingPathComponent("Trash")), themes: ThemeCatalog(folders: [ThemeTests.themesFolder]))
        let app = AppController(config: UserConfig(), freshConfig: true, modelName: "mini", outputFolder: folder,
                                themeName: "dark", services: services)
        app.apply(.modelLoaded(LoadedModel(name: "mini", hasIdentity: true, nativeSize: 64, loadSeconds: 0.1,
                                           examplePrompt: "a cartoon of S* wearing a crown in space", domain: "drawn faces")))
        XCTAssertEqual(app.settings.request.prompt, "a cartoon of S* wearing a crown in space")
        XCTAssertEqual(app.prompt.text, "a cartoon of S* wearing a crown in space")
        app.chooseReference(URL(fileURLWithPath: "/photos/me.jpg"))
        XCTAssertEqual(app.currentMessage()?.text,
                       "note: this model knows drawn faces only; a photo of a real person will not carry over (its model card says more)")
        XCTAssertEqual(app.settings.crop, .auto)
    }
}

extension AppControllerTests {
    func testASweepQueuesOneRunPerCellWithOneSeed() {
        let app = makeApp()
        app.settings.seedLocked = true
        app.settings.request.seed = 9
        app.startSweep("x guidance=2,4,6 y steps=5,10")
        XCTAssertEqual(queue.jobs.count, 6)
        XCTAssertEqual(Set(queue.jobs.map(\.seed)), [9], "one seed for the whole grid")
        XCTAssertEqual(queue.jobs.map(\.settings.request.guidance), [2, 4, 6, 2, 4, 6])
        XCTAssertEqual(queue.jobs.map(\.settings.request.steps), [5, 5, 5, 10, 10, 10])
        press(app, .right, .right, .down)
        XCTAssertEqual(app.sweep?.selection, 5)
        press(app, .enter)
        XCTAssertEqual(app.settings.request.guidance, 6)
        XCTAssertEqual(app.settings.request.steps, 10)
        app.startSweep("x brightness=1,2")
        XCTAssertTrue(app.currentMessage()?.text.contains("expected KNOB=V1,V2") ?? false, "\(String(describing: app.currentMessage()))")
        XCTAssertEqual(queue.jobs.count, 6, "a bad sweep queues nothing")
    }
}
