import Terminal

/// The file picker over the left column: the folder, the filter, folders then the files offered
/// (photos for the reference, safetensors for a LoRA).
enum FilePickerView {
    static func draw(_ browser: FileBrowser, filtering: Bool, purpose: PickerPurpose = .reference, in box: CellRect,
                     on canvas: Canvas) {
        canvas.fill(box)
        canvas.panel(box, title: purpose == .lora ? "Add a LoRA file" : "Pick a reference photo", focused: true)
        let inner = box.inset(by: 1)
        guard inner.height >= 3 else { return }
        canvas.text(PathDisplay.shortened(browser.folder.path, to: inner.width), x: inner.x, y: inner.y, role: .title)
        let filterText = filtering ? "filter: \(browser.filter)▏" : browser.filter.isEmpty ? (purpose == .lora ? "/ to filter · .safetensors only" : "/ to filter · PNG and JPEG only") : "filter: \(browser.filter)"
        canvas.text(filterText, x: inner.x, y: inner.y + 1, role: filtering ? .accent : .hint, width: inner.width)
        let list = CellRect(x: inner.x, y: inner.y + 2, width: inner.width, height: inner.height - 2)
        if let problem = browser.problem {
            canvas.text(problem, x: list.x, y: list.y, role: .error, width: list.width)
            return
        }
        if browser.entries.filter({ $0.kind != .parent }).isEmpty {
            canvas.text(purpose == .lora ? "(no folders or .safetensors here)" : "(no folders or images here)", x: list.x, y: list.y + (browser.entries.isEmpty ? 0 : 1), role: .hint)
        }
        let first = min(max(0, browser.selection - list.height / 2), max(0, browser.entries.count - list.height))
        for row in 0..<list.height where first + row < browser.entries.count {
            let entry = browser.entries[first + row]
            let selected = first + row == browser.selection
            let label: String
            switch entry.kind {
            case .parent: label = "↑ .."
            case .folder: label = "▸ " + entry.name + "/"
            case .image, .file: label = "  " + entry.name
            }
            if selected { canvas.fill(CellRect(x: list.x, y: list.y + row, width: list.width, height: 1), role: .selected) }
            canvas.text(label, x: list.x, y: list.y + row, role: selected ? .selected : entry.kind == .image || entry.kind == .file ? .text : .accent,
                        width: list.width)
        }
    }
}
