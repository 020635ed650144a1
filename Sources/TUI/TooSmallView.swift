import Terminal

/// What shows when the terminal is smaller than the layout's minimum: a clear message, not a broken layout.
enum TooSmallView {
    static func lines(columns: Int, rows: Int) -> [String] {
        ["Terminal too small: \(columns)x\(rows)",
         "PhotoVerse needs at least \(ScreenLayout.minimumColumns)x\(ScreenLayout.minimumRows).",
         "Enlarge the window (q quits)."]
    }

    static func draw(columns: Int, rows: Int, on canvas: Canvas) {
        let all = CellRect(x: 0, y: 0, width: columns, height: rows)
        let text = lines(columns: columns, rows: rows)
        for (index, line) in text.enumerated() {
            canvas.centred(line, in: all, role: index == 0 ? .error : .text, row: max(0, rows / 2 - 1 + index))
        }
    }
}
