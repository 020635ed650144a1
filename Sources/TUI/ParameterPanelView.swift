import Terminal

/// The knobs, one per row: label on the left, value on the right; the selected row
/// highlighted, identity knobs dimmed when the model has no adapter, scrolled to the selection.
/// Below them the LoRA list: a row per file (name, scale), then "+ add LoRA".
enum ParameterPanelView {
    static func draw(_ app: AppController, in rect: CellRect, on canvas: Canvas) {
        let focused = app.focus == .parameters
        canvas.panel(rect, title: "Parameters", focused: focused && app.overlay == nil && app.sweep == nil)
        let inner = rect.inset(by: 1)
        guard inner.height >= 1 else { return }
        let fields = ParameterField.allCases
        let loras = app.settings.request.loras
        let rowCount = fields.count + loras.count + 1
        let selected = app.selectedLoRA.map { fields.count + $0 } ?? fields.firstIndex(of: app.selectedField) ?? 0
        let first = min(max(0, selected - inner.height / 2), max(0, rowCount - inner.height))
        for row in 0..<inner.height where first + row < rowCount {
            let index = first + row
            let y = inner.y + row
            let isSelected = focused && index == selected
            let label: String, enabled: Bool
            var value: String
            if index < fields.count {
                let field = fields[index]
                enabled = app.fieldIsEnabled(field)
                label = field.label
                if case .valueEntry(let editing) = app.overlay, editing == field {
                    drawLabel(label, row: y, inner: inner, selected: isSelected, enabled: enabled, on: canvas)
                    drawEntry(app.valueEditor, row: y, inner: inner, on: canvas)
                    continue
                }
                value = field.value(in: app.settings)
            } else if index - fields.count < loras.count {
                let lora = index - fields.count
                (label, value) = AppController.loraRow(loras[lora])
                enabled = true
                if case .loraScaleEntry(let editing) = app.overlay, editing == lora {
                    drawLabel(label, row: y, inner: inner, selected: isSelected, enabled: enabled, on: canvas)
                    drawEntry(app.valueEditor, row: y, inner: inner, on: canvas)
                    continue
                }
            } else {
                (label, value, enabled) = ("+ add LoRA (a)", "", true)
            }
            drawLabel(label, row: y, inner: inner, selected: isSelected, enabled: enabled, on: canvas)
            if value.isEmpty { continue }
            if !enabled { value += " ·off" }
            if isSelected { value = "◀ " + value + " ▶" }
            let width = DisplayWidth.of(value)
            canvas.text(value + " ", x: max(inner.x + 1, inner.maxX - width - 1), y: y,
                        role: isSelected ? .selected : enabled ? .text : .hint)
        }
        if first > 0 { canvas.text("↑", x: rect.maxX - 1, y: inner.y, role: .hint) }
        if first + inner.height < rowCount { canvas.text("↓", x: rect.maxX - 1, y: inner.maxY - 1, role: .hint) }
    }

    static func drawLabel(_ label: String, row y: Int, inner: CellRect, selected: Bool, enabled: Bool, on canvas: Canvas) {
        let role: ThemeRole = selected ? .selected : enabled ? .text : .hint
        if selected { canvas.fill(CellRect(x: inner.x, y: y, width: inner.width, height: 1), role: .selected) }
        canvas.text(" " + label, x: inner.x, y: y, role: role, width: inner.width)
    }

    /// The typed value, in a field on the right half of the row, with the cursor in it.
    static func drawEntry(_ editor: TextEditor, row: Int, inner: CellRect, on canvas: Canvas) {
        let width = max(8, inner.width / 2)
        let x = inner.maxX - width - 1
        let text = editor.text
        canvas.text(DisplayWidth.pad("[" + text, to: width - 1) + "]", x: x, y: row, role: .accent)
        canvas.cursor = (min(x + 1 + DisplayWidth.of(String(editor.characters[0..<editor.cursor])), x + width - 2), row)
    }
}
