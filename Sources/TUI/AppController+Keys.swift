import Foundation
import Terminal

/// Key handling: overlays first, then the text being edited, then global keys, then the focused panel's.
extension AppController {
    public func handle(_ key: Key) {
        if key == .control("l") {
            fullRedrawRequested = true
            return
        }
        if let overlay {
            handleOverlay(key, overlay)
            return
        }
        if editingText {
            handleEditing(key)
            return
        }
        switch key {
        case .tab: focus = focus.next(1)
        case .backTab: focus = focus.next(-1)
        case .character("?"), .function(1): overlay = .help
        case .character("q"): requestQuit()
        case .character("g"): generate()
        case .escape:
            if isBusy { cancelRuns() } else if comparing { comparing = false }
        case .character("t"): nextTheme()
        case .character("n"): newSeed()
        default:
            switch focus {
            case .reference: handleReferenceKey(key)
            case .prompt, .negative: handlePromptPanelKey(key)
            case .parameters: handleParameterKey(key)
            case .gallery: handleGalleryKey(key)
            }
        }
    }

    func handleOverlay(_ key: Key, _ overlay: Overlay) {
        switch overlay {
        case .help:
            self.overlay = nil
        case .picker:
            handlePickerKey(key)
        case .valueEntry(let field):
            handleValueEntry(key, field)
        case .confirmQuit:
            switch key {
            case .character("y"), .character("Y"), .character("q"):
                services.queue.cancelAll()
                quitRequested = true
            case .character("n"), .character("N"), .escape:
                self.overlay = nil
            default: break
            }
        case .confirmDelete(let url):
            switch key {
            case .character("y"), .character("Y"):
                self.overlay = nil
                do {
                    try services.trash.move(url)
                    if gallery.selected?.url == url { gallery.removeSelected() }
                    images.forget(url)
                    say("moved \(url.lastPathComponent) to the trash (\(PathDisplay.abbreviated(services.trash.root.path)))")
                } catch {
                    fail("\(error)")
                }
            case .character("n"), .character("N"), .escape:
                self.overlay = nil
            default: break
            }
        }
    }

    func handleReferenceKey(_ key: Key) {
        switch key {
        case .enter, .character("o"), .character("p"), .right, .character("l"):
            openPicker()
        case .character("c"):
            cycleCrop()
        case .character("x"), .delete, .backspace:
            clearReference()
        default: break
        }
    }

    public func openPicker() {
        let selected = settings.referencePath.map { URL(fileURLWithPath: $0).lastPathComponent }
        picker = FileBrowser(folder: browseFolder, selecting: selected)
        pickerFiltering = false
        overlay = .picker
    }

    func handlePickerKey(_ key: Key) {
        guard var browser = picker else {
            overlay = nil
            return
        }
        defer { picker = browser }
        if pickerFiltering {
            switch key {
            case .character(let c):
                browser.typeFilter(c)
                return
            case .backspace:
                browser.deleteFilterCharacter()
                return
            case .escape:
                pickerFiltering = false
                return
            case .up, .down, .enter:
                pickerFiltering = false   // fall through to the normal keys
            default:
                return
            }
        }
        switch key {
        case .up, .character("k"): browser.move(by: -1)
        case .down, .character("j"): browser.move(by: 1)
        case .pageUp: browser.move(by: -10)
        case .pageDown: browser.move(by: 10)
        case .home, .character("g"): browser.moveToFirst()
        case .end, .character("G"): browser.moveToLast()
        case .enter, .right, .character("l"):
            if let chosen = browser.activate() {
                overlay = nil
                picker = nil
                chooseReference(chosen)
                browser = FileBrowser(folder: chosen.deletingLastPathComponent())
            }
        case .left, .character("h"), .backspace: browser.goUp()
        case .character("/"): pickerFiltering = true
        case .character("~"):
            browser = FileBrowser(folder: URL(fileURLWithPath: PathDisplay.home))
        case .escape, .character("q"):
            overlay = nil
            browseFolder = browser.folder
        default: break
        }
    }

    func handleParameterKey(_ key: Key) {
        let fields = ParameterField.allCases
        let index = fields.firstIndex(of: selectedField) ?? 0
        switch key {
        case .up, .character("k"): selectedField = fields[max(0, index - 1)]
        case .down, .character("j"): selectedField = fields[min(fields.count - 1, index + 1)]
        case .home: selectedField = fields[0]
        case .end: selectedField = fields[fields.count - 1]
        case .left, .character("h"): adjustSelected(by: -1, coarse: false)
        case .right, .character("l"): adjustSelected(by: 1, coarse: false)
        case .pageDown, .character("H"): adjustSelected(by: -1, coarse: true)
        case .pageUp, .character("L"): adjustSelected(by: 1, coarse: true)
        case .character(" ") where selectedField == .seed:
            settings.seedLocked.toggle()
            say(settings.seedLocked ? "seed \(settings.request.seed) locked" : "seed unlocked: each run draws a new one")
        case .enter:
            guard fieldIsEnabled(selectedField) else { return explainDisabled(selectedField) }
            valueEditor = TextEditor(selectedField.editableValue(in: settings))
            overlay = .valueEntry(selectedField)
        default: break
        }
    }

    public func fieldIsEnabled(_ field: ParameterField) -> Bool { !field.needsIdentity || hasIdentity }

    func explainDisabled(_ field: ParameterField) {
        fail("\(field.label) needs a PhotoVerse adapter; this model has none (plain text-to-image)")
    }

    func adjustSelected(by direction: Int, coarse: Bool) {
        guard fieldIsEnabled(selectedField) else { return explainDisabled(selectedField) }
        selectedField.adjust(&settings, by: direction, coarse: coarse)
    }

    func handleGalleryKey(_ key: Key) {
        switch key {
        case .left, .character("h"), .up, .character("k"): gallery.move(by: -1)
        case .right, .character("l"), .down, .character("j"): gallery.move(by: 1)
        case .home: gallery.moveToFirst()
        case .end: gallery.moveToLast()
        case .character("c"):
            comparing.toggle()
            if comparing && referenceFace == nil { say("no reference photo to compare with") }
        case .character("o"):
            if let item = gallery.selected { say(services.openFile(item.url)) }
        case .character("d"), .delete:
            if let item = gallery.selected { overlay = .confirmDelete(item.url) }
        case .character("r"), .enter:
            if let item = gallery.selected { reload(from: item.url) }
        default: break
        }
    }
}
