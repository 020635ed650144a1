import Foundation
import Terminal

/// The sweep: its entry box, and its grid in the big panel filling as the cells finish.
enum SweepView {
    /// The axes being typed, in a centred box.
    static func drawEntry(_ app: AppController, columns: Int, rows: Int, on canvas: Canvas) -> CellRect {
        let width = min(columns - 4, 76)
        let box = CellRect(x: (columns - width) / 2, y: rows / 2 - 3, width: width, height: 6)
        canvas.fill(box)
        canvas.panel(box, title: "Sweep: one seed over a grid", focused: true)
        let inner = box.inset(by: 1)
        canvas.text("x KNOB=V1,V2,... [y KNOB=...]: text-weight image-weight lora-scale", x: inner.x + 1, y: inner.y, role: .hint,
                    width: inner.width - 2)
        canvas.text("guidance identity-guidance tokens image-start image-end strength steps seed", x: inner.x + 1, y: inner.y + 1,
                    role: .hint, width: inner.width - 2)
        let editor = app.valueEditor, row = inner.y + 3
        canvas.text(DisplayWidth.pad("> " + editor.text, to: inner.width - 2), x: inner.x + 1, y: row, role: .accent)
        let before = DisplayWidth.of(String(editor.characters[0..<editor.cursor]))
        canvas.cursor = (min(inner.x + 3 + before, inner.maxX - 2), row)
        return box
    }

    /// The grid of cells in `rect`: each finished cell's image, its label under it, the
    /// selected cell marked; cells still to come say so.
    static func draw(_ app: AppController, _ sweep: SweepState, in rect: CellRect, on canvas: Canvas) {
        let axes = "x \(sweep.plan.x.knob.rawValue)" + (sweep.plan.y.map { " · y \($0.knob.rawValue)" } ?? "")
        canvas.panel(rect, title: "Sweep \(sweep.finishedCount)/\(sweep.cellCount) · \(axes) · seed \(sweep.plan.base.seed)",
                     focused: app.overlay == nil)
        let inner = rect.inset(by: 1)
        let columns = sweep.plan.columns, rows = sweep.plan.rows
        guard inner.width >= columns * 4, inner.height >= rows * 3 else {
            canvas.centred("too small for a \(columns)x\(rows) grid", in: inner)
            return
        }
        // under the grid: the selected cell's settings, and its identity score once cells have one
        // (the cells' captions carry the bare figure)
        let footer = sweep.scores.isEmpty ? 1 : 2
        let cellWidth = inner.width / columns, cellHeight = (inner.height - footer) / rows
        for index in 0..<sweep.cellCount {
            let row = index / columns, column = index % columns
            let box = CellRect(x: inner.x + column * cellWidth, y: inner.y + row * cellHeight, width: cellWidth - 1, height: cellHeight - 1)
            let selected = index == sweep.selection
            let caption = (selected ? "▶ " : "") + sweep.values(index) + (sweep.scores[index].map { " · \($0.shortText)" } ?? "")
            canvas.text(caption, x: box.x, y: box.maxY, role: selected ? .selected : .hint, width: box.width)
            let picture = CellRect(x: box.x, y: box.y, width: box.width, height: box.height)
            if let shown = sweep.images[index] {
                canvas.image("sweep-\(index)", shown, in: picture, placeholder: "cell")
            } else {
                canvas.centred(sweep.failed.contains(index) ? "failed" : "queued", in: picture)
            }
        }
        canvas.text(sweep.label(sweep.selection) + "  (Enter loads it)", x: inner.x, y: inner.maxY - footer, role: .text, width: inner.width)
        if footer == 2 {
            let score = sweep.scores[sweep.selection].map(\.description) ?? "no face match for this cell"
            canvas.text(score, x: inner.x, y: inner.maxY - 1, role: .text, width: inner.width)
        }
    }
}
