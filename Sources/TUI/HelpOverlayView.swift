import Terminal

/// `?`: every key, by where it works.
enum HelpOverlayView {
    static let lines: [(String, String)] = [
        ("Anywhere", ""),
        ("Tab / Shift-Tab", "next / previous panel"),
        ("g", "generate (queues Batch runs; again while running: queue more)"),
        ("Esc", "stop the run between steps (drops the queue)"),
        ("n", "new random seed"),
        ("t", "next colour theme"),
        ("Ctrl-L", "repaint the screen"),
        ("q", "quit (asks when a run is going)"),
        ("Reference", ""),
        ("Enter", "pick a photo (↑↓ jk, Enter open, ← up, / filter)"),
        ("c / x", "crop: auto (face) or whole photo / clear"),
        ("Prompt", ""),
        ("Enter", "edit; Enter or Esc when done; Ctrl-J new line"),
        ("↑ ↓", "move by line; past the ends: earlier prompts"),
        ("Ctrl-A/E/W/U/K", "line start/end, delete word/to start/to end"),
        ("Parameters", ""),
        ("↑↓ jk  ←→ hl", "select / adjust (PgUp/PgDn or H/L: bigger steps)"),
        ("Enter / Space", "type a value / lock or unlock the seed"),
        ("Gallery", ""),
        ("←→ hl", "browse results"),
        ("c / o", "compare with the reference / open the file"),
        ("d / r", "delete to the trash / reload its parameters"),
    ]

    static func rect(columns: Int, rows: Int) -> CellRect {
        let width = min(86, columns - 4), height = min(lines.count + 4, rows - 2)
        return CellRect(x: (columns - width) / 2, y: (rows - height) / 2, width: width, height: height)
    }

    static func draw(columns: Int, rows: Int, on canvas: Canvas) -> CellRect {
        let box = rect(columns: columns, rows: rows)
        canvas.fill(box)
        canvas.panel(box, title: "Keys (any key closes)", focused: true)
        let inner = box.inset(by: 1).inset(by: 0)
        for (index, line) in lines.prefix(inner.height - 1).enumerated() {
            let y = inner.y + 1 + index
            if line.1.isEmpty {
                canvas.text(" " + line.0, x: inner.x, y: y, role: .accent)
            } else {
                canvas.text("   " + DisplayWidth.pad(line.0, to: 17), x: inner.x, y: y, role: .title)
                canvas.text(line.1, x: inner.x + 21, y: y, width: inner.width - 22)
            }
        }
        return box
    }
}
