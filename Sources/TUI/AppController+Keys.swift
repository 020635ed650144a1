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
        let scopes: [KeyBinding.Scope] = sweep != nil ? [.sweep, .anywhere, focus.keyScope] : [.anywhere, focus.keyScope]
        KeyBindings.binding(for: key, in: scopes, app: self)?.action(self, key)
    }

    func handleOverlay(_ key: Key, _ overlay: Overlay) {
        switch overlay {
        case .help:
            // The arrows scroll a help taller than the screen; any other key closes it.
            switch key {
            case .up, .character("k"): helpScroll = max(0, helpScroll - 1)
            case .down, .character("j"): helpScroll += 1
            case .pageUp: helpScroll = max(0, helpScroll - 10)
            case .pageDown, .character(" "): helpScroll += 10
            default: self.overlay = nil
            }
        case .picker:
            handlePickerKey(key)
        case .valueEntry(let field):
            handleValueEntry(key, field)
        case .loraScaleEntry(let index):
            handleLoRAScaleEntry(key, index)
        case .sweepEntry:
            switch key {
            case .enter:
                self.overlay = nil
                startSweep(valueEditor.text)
            case .escape: self.overlay = nil
            default: editEntryLine(key)
            }
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

    public func openPicker() {
        pickerPurpose = .reference
        let selected = settings.referencePath.map { URL(fileURLWithPath: $0).lastPathComponent }
        picker = FileBrowser(folder: browseFolder, selecting: selected)
        pickerFiltering = false
        overlay = .picker
        pickerPreviewRequested = nil
        previewHighlightedPhoto()
    }

    func handlePickerKey(_ key: Key) {
        guard picker != nil else {
            overlay = nil
            return
        }
        if pickerFiltering {
            switch key {
            case .character(let c):
                picker?.typeFilter(c)
                return
            case .backspace:
                picker?.deleteFilterCharacter()
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
        KeyBindings.binding(for: key, in: [.picker], app: self)?.action(self, key)
        previewHighlightedPhoto()
    }

    /// Asks for the highlighted photo once, prepared with the crop picking it would give.
    func previewHighlightedPhoto() {
        guard overlay == .picker, pickerPurpose == .reference, let entry = picker?.selected, entry.kind == .image else { return }
        guard entry.url.path != pickerPreviewRequested else { return }
        pickerPreviewRequested = entry.url.path
        services.previewPhoto(entry.url.path, isShippedReference(entry.url) ? .none : .auto)
    }

    func activatePickerSelection() {
        guard var browser = picker else { return }
        if let chosen = browser.activate() {
            overlay = nil
            picker = nil
            if pickerPurpose == .lora { return addLoRA(chosen) }
            chooseReference(chosen)
        } else {
            picker = browser
        }
    }

    func closePicker() {
        overlay = nil
        guard let folder = picker?.folder else { return }
        if pickerPurpose == .lora { loraBrowseFolder = folder } else { browseFolder = folder }
    }

    func openHelp() {
        helpScroll = 0
        overlay = .help
    }

    /// Up and down over the fields, then the LoRA files, then the "add a LoRA" row.
    func moveSelection(by offset: Int) {
        let fields = ParameterField.allCases
        let index = selectedLoRA.map { fields.count + $0 } ?? fields.firstIndex(of: selectedField) ?? 0
        let next = min(max(index + offset, 0), fields.count + settings.request.loras.count)
        if next < fields.count {
            selectedField = fields[next]
            selectedLoRA = nil
        } else {
            selectedLoRA = next - fields.count
        }
    }

    func toggleSeedLock() {
        settings.seedLocked.toggle()
        say(settings.seedLocked ? "seed \(settings.request.seed) locked" : "seed unlocked: each run draws a new one")
    }

    func startValueEntry() {
        if let index = selectedLoRA { return startLoRAEntry(index) }
        guard fieldIsEnabled(selectedField) else { return explainDisabled(selectedField) }
        valueEditor = TextEditor(selectedField.editableValue(in: settings))
        valueEntryFresh = true
        overlay = .valueEntry(selectedField)
    }

    public func fieldIsEnabled(_ field: ParameterField) -> Bool { !field.needsIdentity || hasIdentity }

    func explainDisabled(_ field: ParameterField) {
        fail("\(field.label) needs a PhotoVerse adapter; this model has none (plain text-to-image)")
    }

    func adjustSelected(by direction: Int, coarse: Bool) {
        if let index = selectedLoRA { return adjustLoRA(index, by: direction, coarse: coarse) }
        guard fieldIsEnabled(selectedField) else { return explainDisabled(selectedField) }
        selectedField.adjust(&settings, by: direction, coarse: coarse)
    }

    func toggleCompare() {
        comparing.toggle()
        if comparing && referenceFace == nil { say("no reference photo to compare with") }
    }

    func openSelected() {
        if let item = gallery.selected { say(services.openFile(item.url)) }
    }

    func askDeleteSelected() {
        if let item = gallery.selected { overlay = .confirmDelete(item.url) }
    }

    func reloadSelected() {
        if let item = gallery.selected { reload(from: item.url) }
    }
}
