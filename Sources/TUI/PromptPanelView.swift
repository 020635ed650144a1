import Terminal

/// The prompt and the negative prompt, wrapped, with `S*` picked out and the cursor shown while editing.
enum PromptPanelView {
    static let negativeLabel = "Negative: "

    static func draw(_ app: AppController, in rect: CellRect, on canvas: Canvas) {
        let focused = (app.focus == .prompt || app.focus == .negative) && app.overlay == nil && (app.sweep == nil || app.editingText)
        let editing = app.editingText && focused
        canvas.panel(rect, title: editing ? "Prompt · editing (Enter: done)" : "Prompt", focused: focused)
        let inner = rect.inset(by: 1)
        guard inner.height >= 2 else { return }
        let negativeRows = max(1, min(2, inner.height / 3))
        let promptArea = CellRect(x: inner.x, y: inner.y, width: inner.width, height: inner.height - negativeRows)
        let labelWidth = DisplayWidth.of(negativeLabel)
        let negativeArea = CellRect(x: inner.x + labelWidth, y: promptArea.maxY, width: inner.width - labelWidth, height: negativeRows)
        app.promptWidth = promptArea.width
        app.negativeWidth = negativeArea.width
        let labelRole: ThemeRole = app.focus == .negative && focused ? .accent : .hint
        canvas.text(negativeLabel, x: inner.x, y: negativeArea.y, role: labelRole)
        drawEditor(app.prompt, in: promptArea, editing: editing && app.focus == .prompt, highlight: true, on: canvas)
        drawEditor(app.negative, in: negativeArea, editing: editing && app.focus == .negative, highlight: false, on: canvas)
        if app.prompt.text.isEmpty && !(editing && app.focus == .prompt) {
            canvas.text("Enter to write a prompt; S* stands for the person", x: promptArea.x, y: promptArea.y, role: .hint,
                        width: promptArea.width)
        }
    }

    static func drawEditor(_ editor: TextEditor, in area: CellRect, editing: Bool, highlight: Bool, on canvas: Canvas) {
        guard !area.isEmpty else { return }
        let lines = editor.lines(width: area.width)
        let cursor = editor.cursorPosition(width: area.width)
        let first = editing ? max(0, cursor.line - area.height + 1) : 0
        for row in 0..<area.height where first + row < lines.count {
            let line = lines[first + row]
            var text = String(editor.characters[line.start..<line.end])
            let more = row == area.height - 1 && first + row < lines.count - 1
            if more && !editing { text = DisplayWidth.truncate(text + " …", to: area.width) }
            drawHighlighted(text, x: area.x, y: area.y + row, width: area.width, highlight: highlight, on: canvas)
        }
        if editing {
            let prefix = editor.characters[lines[cursor.line].start..<(lines[cursor.line].start + cursor.column)]
            canvas.cursor = (area.x + min(area.width - 1, DisplayWidth.of(String(prefix))), area.y + cursor.line - first)
        }
    }

    /// Draws `text`, with every `S*` in the accent colour.
    static func drawHighlighted(_ text: String, x: Int, y: Int, width: Int, highlight: Bool, on canvas: Canvas) {
        guard highlight, text.contains("S*") else {
            canvas.text(text, x: x, y: y, width: width)
            return
        }
        var column = x
        let parts = text.components(separatedBy: "S*")
        for (index, part) in parts.enumerated() {
            column += canvas.text(part, x: column, y: y, width: max(0, x + width - column))
            if index < parts.count - 1 { column += canvas.text("S*", x: column, y: y, role: .accent, width: max(0, x + width - column)) }
        }
    }
}
