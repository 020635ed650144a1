import Foundation
import Terminal

/// One key binding: where it works, the keys, how help and the hint line name it, and what it
/// does. `KeyBindings.table` drives dispatch, the `?` help and the hint line, so the three can
/// never disagree (lazygit's GetKeybindings shape).
struct KeyBinding {
    enum Scope: CaseIterable {
        case anywhere, reference, prompt, parameters, gallery, picker, sweep

        var title: String {
            switch self {
            case .anywhere: return "Anywhere"
            case .reference: return "Reference"
            case .prompt: return "Prompt"
            case .parameters: return "Parameters"
            case .gallery: return "Gallery"
            case .picker: return "File picker (photos, LoRA files)"
            case .sweep: return "Sweep (while its grid is shown)"
            }
        }
    }

    let scope: Scope
    let keys: [Key]
    /// How help spells the keys ("←→ hl").
    let label: String
    /// What help says it does.
    let help: String
    /// The hint line's short form; nil keeps it out of the hint line.
    let hint: String?
    /// Only when this holds (e.g. Esc stops only while a run is going).
    var applies: (AppController) -> Bool = { _ in true }
    let action: (AppController, Key) -> Void

    func matches(_ key: Key, in app: AppController) -> Bool { keys.contains(key) && applies(app) }
}

enum KeyBindings {
    static let table: [KeyBinding] = anywhere + reference + prompt + parameters + gallery + picker + sweep

    static let anywhere: [KeyBinding] = [
        KeyBinding(scope: .anywhere, keys: [.tab], label: "Tab / Shift-Tab", help: "next / previous panel", hint: "Tab panel") { app, _ in
            app.focus = app.focus.next(1)
        },
        KeyBinding(scope: .anywhere, keys: [.backTab], label: "", help: "", hint: nil) { app, _ in app.focus = app.focus.next(-1) },
        KeyBinding(scope: .anywhere, keys: [.character("g")], label: "g",
                   help: "generate (queues Batch runs; again while running: queue more)", hint: "g generate") { app, _ in app.generate() },
        KeyBinding(scope: .anywhere, keys: [.escape], label: "Esc", help: "stop the run (drops the queue); leave compare",
                   hint: "Esc stop", applies: { $0.isBusy }) { app, _ in app.cancelRuns() },
        KeyBinding(scope: .anywhere, keys: [.escape], label: "", help: "", hint: nil, applies: { $0.comparing }) { app, _ in
            app.comparing = false
        },
        KeyBinding(scope: .anywhere, keys: [.character("n")], label: "n", help: "new random seed", hint: nil) { app, _ in app.newSeed() },
        KeyBinding(scope: .anywhere, keys: [.character("w")], label: "w", help: "sweep: one seed over a grid of knob values",
                   hint: nil) { app, _ in app.startSweepEntry() },
        KeyBinding(scope: .anywhere, keys: [.character("t")], label: "t", help: "next colour theme", hint: "t theme") { app, _ in app.nextTheme() },
        KeyBinding(scope: .anywhere, keys: [.control("l")], label: "Ctrl-L", help: "repaint the screen", hint: nil) { app, _ in
            app.fullRedrawRequested = true
        },
        KeyBinding(scope: .anywhere, keys: [.character("?"), .function(1)], label: "? / F1", help: "this help (↑↓ PgUp PgDn scroll)",
                   hint: "? help") { app, _ in app.openHelp() },
        KeyBinding(scope: .anywhere, keys: [.character("q")], label: "q", help: "quit (asks when a run is going)", hint: "q quit") { app, _ in
            app.requestQuit()
        },
    ]

    static let reference: [KeyBinding] = [
        KeyBinding(scope: .reference, keys: [.enter, .character("o"), .character("p"), .right, .character("l")], label: "Enter",
                   help: "pick a photo", hint: "Enter pick photo") { app, _ in app.openPicker() },
        KeyBinding(scope: .reference, keys: [.character("c")], label: "c",
                   help: "crop: auto (find the face) → none (whole photo) → the last x,y,w,h box", hint: "c crop") { app, _ in app.cycleCrop() },
        KeyBinding(scope: .reference, keys: [.character("x"), .delete, .backspace], label: "x", help: "clear the reference",
                   hint: "x clear") { app, _ in app.clearReference() },
    ]

    static let prompt: [KeyBinding] = [
        KeyBinding(scope: .prompt, keys: [.enter, .character("e"), .character("i")], label: "Enter",
                   help: "edit; Enter or Esc when done; Ctrl-J new line", hint: "Enter edit") { app, _ in app.editingText = true },
        KeyBinding(scope: .prompt, keys: [.up, .character("k")], label: "↑↓ jk", help: "prompt / negative prompt",
                   hint: "↑↓ prompt/negative") { app, _ in app.focus = .prompt },
        KeyBinding(scope: .prompt, keys: [.down, .character("j")], label: "", help: "", hint: nil) { app, _ in app.focus = .negative },
    ]

    static let parameters: [KeyBinding] = [
        KeyBinding(scope: .parameters, keys: [.up, .character("k")], label: "↑↓ jk", help: "select a parameter", hint: nil) { app, _ in
            app.moveSelection(by: -1)
        },
        KeyBinding(scope: .parameters, keys: [.down, .character("j")], label: "", help: "", hint: nil) { app, _ in app.moveSelection(by: 1) },
        KeyBinding(scope: .parameters, keys: [.home], label: "", help: "", hint: nil) { app, _ in app.moveSelection(by: -1000) },
        KeyBinding(scope: .parameters, keys: [.end], label: "", help: "", hint: nil) { app, _ in app.moveSelection(by: 1000) },
        KeyBinding(scope: .parameters, keys: [.left, .character("h")], label: "←→ hl", help: "adjust", hint: "←→ adjust") { app, _ in
            app.adjustSelected(by: -1, coarse: false)
        },
        KeyBinding(scope: .parameters, keys: [.right, .character("l")], label: "", help: "", hint: nil) { app, _ in
            app.adjustSelected(by: 1, coarse: false)
        },
        KeyBinding(scope: .parameters, keys: [.pageUp, .character("L")], label: "PgUp PgDn / H L", help: "adjust in bigger steps",
                   hint: nil) { app, _ in app.adjustSelected(by: 1, coarse: true) },
        KeyBinding(scope: .parameters, keys: [.pageDown, .character("H")], label: "", help: "", hint: nil) { app, _ in
            app.adjustSelected(by: -1, coarse: true)
        },
        KeyBinding(scope: .parameters, keys: [.enter], label: "Enter", help: "type a value (replaces it)", hint: "Enter type") { app, _ in
            app.startValueEntry()
        },
        KeyBinding(scope: .parameters, keys: [.character(" ")], label: "Space", help: "on Seed: lock or unlock it",
                   hint: "Space lock", applies: { $0.selectedField == .seed && $0.selectedLoRA == nil }) { app, _ in app.toggleSeedLock() },
        KeyBinding(scope: .parameters, keys: [.character("a")], label: "a",
                   help: "add a LoRA file (kohya or diffusers/peft .safetensors) to the list below the knobs; ←→ set its scale",
                   hint: "a add LoRA") { app, _ in app.openLoRAPicker() },
        KeyBinding(scope: .parameters, keys: [.character("x"), .delete, .backspace], label: "x",
                   help: "on a LoRA file: remove it from the list", hint: "x remove LoRA",
                   applies: { $0.selectedLoRAFile != nil }) { app, _ in app.removeSelectedLoRA() },
    ]

    static let gallery: [KeyBinding] = [
        KeyBinding(scope: .gallery, keys: [.left, .character("h"), .up, .character("k")], label: "←→ hl", help: "browse results",
                   hint: "←→ browse") { app, _ in app.gallery.move(by: -1) },
        KeyBinding(scope: .gallery, keys: [.right, .character("l"), .down, .character("j")], label: "", help: "", hint: nil) { app, _ in
            app.gallery.move(by: 1)
        },
        KeyBinding(scope: .gallery, keys: [.home], label: "", help: "", hint: nil) { app, _ in app.gallery.moveToFirst() },
        KeyBinding(scope: .gallery, keys: [.end], label: "", help: "", hint: nil) { app, _ in app.gallery.moveToLast() },
        KeyBinding(scope: .gallery, keys: [.character("c")], label: "c", help: "compare with the reference", hint: "c compare") { app, _ in
            app.toggleCompare()
        },
        KeyBinding(scope: .gallery, keys: [.character("o")], label: "o", help: "open the file (xdg-open, else its path)",
                   hint: "o open") { app, _ in app.openSelected() },
        KeyBinding(scope: .gallery, keys: [.character("d"), .delete], label: "d", help: "move to the trash (asks)", hint: "d delete") { app, _ in
            app.askDeleteSelected()
        },
        KeyBinding(scope: .gallery, keys: [.character("r"), .enter], label: "r / Enter", help: "reload its parameters",
                   hint: "r reload") { app, _ in app.reloadSelected() },
    ]

    static let picker: [KeyBinding] = [
        KeyBinding(scope: .picker, keys: [.up, .character("k")], label: "↑↓ jk", help: "move", hint: "↑↓ move") { app, _ in
            app.picker?.move(by: -1)
        },
        KeyBinding(scope: .picker, keys: [.down, .character("j")], label: "", help: "", hint: nil) { app, _ in app.picker?.move(by: 1) },
        KeyBinding(scope: .picker, keys: [.pageUp], label: "PgUp PgDn", help: "move by a page", hint: nil) { app, _ in app.picker?.move(by: -10) },
        KeyBinding(scope: .picker, keys: [.pageDown], label: "", help: "", hint: nil) { app, _ in app.picker?.move(by: 10) },
        KeyBinding(scope: .picker, keys: [.home, .character("g")], label: "g G", help: "first / last", hint: nil) { app, _ in
            app.picker?.moveToFirst()
        },
        KeyBinding(scope: .picker, keys: [.end, .character("G")], label: "", help: "", hint: nil) { app, _ in app.picker?.moveToLast() },
        KeyBinding(scope: .picker, keys: [.enter, .right, .character("l")], label: "Enter", help: "open the folder / choose the photo",
                   hint: "Enter open/choose") { app, _ in app.activatePickerSelection() },
        KeyBinding(scope: .picker, keys: [.left, .character("h"), .backspace], label: "← h", help: "up a folder", hint: "← up") { app, _ in
            app.picker?.goUp()
        },
        KeyBinding(scope: .picker, keys: [.character("/")], label: "/", help: "filter by name", hint: "/ filter") { app, _ in
            app.pickerFiltering = true
        },
        KeyBinding(scope: .picker, keys: [.character("~")], label: "~", help: "home folder", hint: "~ home") { app, _ in
            app.picker = FileBrowser(folder: URL(fileURLWithPath: PathDisplay.home))
        },
        KeyBinding(scope: .picker, keys: [.escape, .character("q")], label: "Esc", help: "close", hint: "Esc close") { app, _ in
            app.closePicker()
        },
    ]

    static let sweep: [KeyBinding] = [
        KeyBinding(scope: .sweep, keys: [.left, .character("h")], label: "←→↑↓ hljk", help: "pick a cell", hint: "←→↑↓ cell") { app, _ in
            app.sweep?.move(columns: -1, rows: 0)
        },
        KeyBinding(scope: .sweep, keys: [.right, .character("l")], label: "", help: "", hint: nil) { app, _ in app.sweep?.move(columns: 1, rows: 0) },
        KeyBinding(scope: .sweep, keys: [.up, .character("k")], label: "", help: "", hint: nil) { app, _ in app.sweep?.move(columns: 0, rows: -1) },
        KeyBinding(scope: .sweep, keys: [.down, .character("j")], label: "", help: "", hint: nil) { app, _ in app.sweep?.move(columns: 0, rows: 1) },
        KeyBinding(scope: .sweep, keys: [.enter], label: "Enter", help: "load the cell's settings", hint: "Enter load") { app, _ in
            app.loadSweepCell()
        },
        KeyBinding(scope: .sweep, keys: [.character("w")], label: "w", help: "close the sweep (its runs go on)", hint: "w close") { app, _ in
            app.sweep = nil
        },
    ]

    /// The first binding of `scopes` (in order) that takes `key` now.
    static func binding(for key: Key, in scopes: [KeyBinding.Scope], app: AppController) -> KeyBinding? {
        for scope in scopes {
            if let binding = table.first(where: { $0.scope == scope && $0.matches(key, in: app) }) { return binding }
        }
        return nil
    }

    /// The hint line's entries for `scopes`: each hint once, in table order, only where it applies now.
    static func hints(for scopes: [KeyBinding.Scope], app: AppController) -> [String] {
        var seen: [String] = []
        for scope in scopes {
            for binding in table where binding.scope == scope {
                guard let hint = binding.hint, binding.applies(app), !seen.contains(hint) else { continue }
                seen.append(hint)
            }
        }
        return seen
    }

    /// Help's lines: a title per scope, then each documented binding (label, what it does).
    static var helpLines: [(String, String)] {
        var lines: [(String, String)] = []
        for scope in KeyBinding.Scope.allCases {
            lines.append((scope.title, ""))
            for binding in table where binding.scope == scope && !binding.label.isEmpty {
                lines.append((binding.label, binding.help))
            }
            if scope == .prompt {
                lines.append(("(while editing)", "↑↓ lines, past the ends earlier prompts; Ctrl-A/E/W/U/K; Alt-B/F"))
            }
        }
        return lines
    }
}
