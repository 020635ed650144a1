import Terminal

/// `?`: every key, by where it works.
enum HelpOverlayView {
    static var lines: [(String, String)] { KeyBindings.helpLines }

    static func rect(columns: Int, rows: Int) -> CellRect {
        let width = min(86, columns - 4), height = min(lines.count + 4, rows - 2)
        return CellRect(x: (columns - width) / 2, y: (rows - height) / 2, width: width, height: height)
    }

    /// `scroll` within 0 ... the first line of the last full page.
    static func clampedScroll(_ scroll: Int, columns: Int, rows: Int) -> Int {
        let visible = max(rect(columns: columns, rows: rows).inset(by: 1).height - 1, 1)
        return min(max(scroll, 0), max(lines.count - visible, 0))
    }

    /// The help, from line `scroll` on (clamped so the last page stays full); a taller help
    /// than the screen says that it scrolls.
    static func draw(columns: Int, rows: Int, scroll: Int, on canvas: Canvas) -> CellRect {
        let box = rect(columns: columns, rows: rows)
        canvas.fill(box)
        let inner = box.inset(by: 1).inset(by: 0)
        let all = lines, visible = max(inner.height - 1, 1)
        let first = clampedScroll(scroll, columns: columns, rows: rows)
        let more = all.count > visible
            ? " \(first + 1)-\(min(first + visible, all.count))/\(all.count), ↑↓ scroll" : ""
        canvas.panel(box, title: "Keys (any key closes)" + more, focused: true)
        for (index, line) in all.dropFirst(first).prefix(visible).enumerated() {
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
