import Terminal

/// The bottom line: the latest message while it lasts, else the key hints.
enum StatusLineView {
    static func draw(_ app: AppController, in rect: CellRect, on canvas: Canvas) {
        if let message = app.currentMessage() {
            canvas.text(" " + message.text, x: rect.x, y: rect.y, role: message.isError ? .error : .accent, width: rect.width)
            return
        }
        canvas.text(" " + KeyHints.line(for: app), x: rect.x, y: rect.y, role: .hint, width: rect.width)
    }
}
