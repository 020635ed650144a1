import Terminal

/// A small centred question with y/n.
enum ConfirmView {
    static func draw(_ question: String, columns: Int, rows: Int, on canvas: Canvas) -> CellRect {
        let width = min(columns - 4, max(40, DisplayWidth.of(question) + 6))
        let box = CellRect(x: (columns - width) / 2, y: rows / 2 - 2, width: width, height: 5)
        canvas.fill(box)
        canvas.panel(box, title: "Confirm", focused: true)
        canvas.centred(question, in: box.inset(by: 1), role: .text, row: box.y + 1)
        canvas.centred("y yes   n no", in: box.inset(by: 1), role: .accent, row: box.y + 3)
        return box
    }
}
