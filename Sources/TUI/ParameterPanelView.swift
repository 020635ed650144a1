import Terminal

/// The knobs, one per row: label on the left, value on the right; the selected row
/// highlighted, identity knobs dimmed when the model has no adapter, scrolled to the selection.
enum ParameterPanelView {
    static func draw(_ app: AppController, in rect: CellRect, on canvas: Canvas) {
        let focused = app.focus == .parameters
        canvas.panel(rect, title: "Parameters", focused: focused && app.overlay == nil && app.sweep == nil)
        let inner = rect.inset(by: 1)
        guard inner.height >= 1 else { return }
        let fields = ParameterField.allCases
        let selected = fields.firstIndex(of: app.selectedField) ?? 0
        let first = min(max(0, selected - inner.height / 2), max(0, fields.count - inner.height))
        for row in 0..<inner.height where first + row < fields.count {
            let field = fields[first + row]
            let y = inner.y + row
            let enabled = app.fieldIsEnabled(field)
            let isSelected = focused && field == app.selectedField
            let role: ThemeRole = isSelected ? .selected : enabled ? .text : .hint
            if isSelected { canvas.fill(CellRect(x: inner.x, y: y, width: inner.width, height: 1), role: .selected) }
            canvas.text(" " + field.label, x: inner.x, y: y, role: role, width: inner.width)
            if case .valueEntry(let editing) = app.overlay, editing == field {
                drawEntry(app.valueEditor, row: y, inner: inner, on: canvas)
                continue
            }
            var value = field.value(in: app.settings)
            if !enabled { value += " ·off" }
            if isSelected { value = "◀ " + value + " ▶" }
            let width = DisplayWidth.of(value)
            canvas.text(value + " ", x: max(inner.x + 1, inner.maxX - width - 1), y: y, role: role)
        }
        if first > 0 { canvas.text("↑", x: rect.maxX - 1, y: inner.y, role: .hint) }
        if first + inner.height < fields.count { canvas.text("↓", x: rect.maxX - 1, y: inner.maxY - 1, role: .hint) }
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
