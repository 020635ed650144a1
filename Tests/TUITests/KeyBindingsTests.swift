import Foundation
import Pipeline
import Terminal
@testable import TUI
import XCTest

/// One table drives dispatch, help and the hint line: whatever help names works, whatever the
/// hint line shows is in help, and nothing shows twice.
extension AppControllerTests {
    func testKeyTableEveryHintIsDocumentedInHelpAndShownOnce() {
        let app = makeApp()
        let helpText = KeyBindings.helpLines.map { "\($0.0) \($0.1)" }.joined(separator: "\n")
        queue.busy = true
        for focus in Panel.allCases {
            app.focus = focus
            let hints = KeyBindings.hints(for: [focus.keyScope, .anywhere], app: app)
            XCTAssertEqual(hints.count, Set(hints).count, "\(focus): \(hints)")
            XCTAssertEqual(hints.filter { $0 == "Esc stop" }.count, 1, "\(focus): Esc stop once while busy")
            let line = KeyHints.line(for: app)
            XCTAssertEqual(line.components(separatedBy: "Esc stop").count - 1, 1, "\(focus): \(line)")
            for hint in hints {
                let key = String(hint.split(separator: " ").first!)
                XCTAssertTrue(helpText.contains(key), "hint '\(hint)' has no help line")
            }
        }
        queue.busy = false
        app.focus = .gallery
        XCTAssertFalse(KeyHints.line(for: app).contains("Esc stop"), "no stop hint while idle")
    }

    func testKeyTableEveryDocumentedBindingDispatchesToItsAction() {
        // Each documented binding's first key, pressed in its scope, is found in the table as that binding.
        for binding in KeyBindings.table where !binding.label.isEmpty {
            let app = makeApp()
            queue.busy = binding.hint == "Esc stop"
            if binding.scope == .parameters && binding.keys.contains(.character(" ")) { app.selectedField = .seed }
            if binding.hint == "x remove LoRA" {
                app.settings.request.loras = [LoRAChoice(path: "/a.safetensors")]
                app.selectedLoRA = 0
            }
            let found = KeyBindings.binding(for: binding.keys[0], in: binding.scope == .anywhere ? [.anywhere] : [binding.scope], app: app)
            XCTAssertEqual(found?.label, binding.label, "\(binding.scope) \(binding.label)")
        }
    }

    func testKeyTableHelpScrollsWhenTallerThanTheScreen() {
        let app = makeApp()
        app.handle(.character("?"))
        XCTAssertEqual(app.overlay, .help)
        XCTAssertGreaterThan(KeyBindings.helpLines.count, 24, "the help is taller than 80x24")
        app.handle(.pageDown)
        app.handle(.down)
        XCTAssertEqual(app.helpScroll, 11)
        XCTAssertEqual(app.overlay, .help, "scrolling keeps it open")
        let last = HelpOverlayView.clampedScroll(1000, columns: 80, rows: 24)
        XCTAssertEqual(last + (HelpOverlayView.rect(columns: 80, rows: 24).inset(by: 1).height - 1), KeyBindings.helpLines.count,
                       "the last page ends with the last line")
        app.handle(.character("x"))
        XCTAssertNil(app.overlay, "any other key closes")
    }
}
