import Foundation
import Terminal

/// A strip of result thumbnails around the selection, and one line about the selected result.
enum GalleryPanelView {
    static func draw(_ app: AppController, in rect: CellRect, on canvas: Canvas) {
        let focused = app.focus == .gallery && app.overlay == nil && app.sweep == nil
        let count = app.gallery.items.count
        canvas.panel(rect, title: count == 0 ? "Gallery" : "Gallery \(app.gallery.selection + 1)/\(count)", focused: focused)
        let inner = rect.inset(by: 1)
        guard inner.height >= 2 else { return }
        guard let selected = app.gallery.selected else {
            canvas.centred("no results yet in \(PathDisplay.shortened(app.outputFolder.path, to: inner.width - 20))", in: inner)
            return
        }
        // Thumbnails, a row of their numbers under them (the selected one as a solid bar), the description.
        let labelled = inner.height >= 4
        let thumbRows = inner.height - (labelled ? 2 : 1)
        if canvas.imageMode == .none {
            drawNumbers(app, row: inner.y, inner: inner, on: canvas)
        } else {
            let thumbWidth = thumbRows * 2
            let slots = max(1, (inner.width - 1) / (thumbWidth + 2))
            let visible = app.gallery.visibleRange(slots: slots)
            for (slot, index) in visible.enumerated() {
                let x = inner.x + 1 + slot * (thumbWidth + 2)
                let box = CellRect(x: x, y: inner.y, width: thumbWidth, height: thumbRows)
                let isSelected = index == app.gallery.selection
                if isSelected {
                    canvas.text("▶", x: x - 1, y: inner.y + thumbRows / 2, role: focused ? .accent : .hint)
                }
                if labelled {
                    let number = "\(index + 1)"
                    let label = isSelected ? "▲ \(number) ▲" : number
                    let padded = String(repeating: " ", count: max(0, (thumbWidth - label.count) / 2)) + label
                    canvas.text(DisplayWidth.pad(padded, to: thumbWidth), x: x, y: inner.y + thumbRows,
                                role: isSelected ? .selected : .hint, width: thumbWidth)
                }
                canvas.image("gallery-\(slot)", app.images.image(app.gallery.items[index].url), in: box, placeholder: "")
            }
        }
        canvas.text(describe(selected), x: inner.x, y: inner.maxY - 1, role: focused ? .text : .hint, width: inner.width)
    }

    /// "[1] [2] [3]" when images are off.
    static func drawNumbers(_ app: AppController, row: Int, inner: CellRect, on canvas: Canvas) {
        var x = inner.x
        for index in app.gallery.visibleRange(slots: max(1, inner.width / 6)) {
            let label = "[\(index + 1)]"
            x += canvas.text(label, x: x, y: row, role: index == app.gallery.selection ? .selected : .text) + 1
        }
    }

    static func describe(_ item: Gallery.Item) -> String {
        // the score first: the line is cut at the panel's width
        var parts = [item.url.lastPathComponent] + (item.score.map { [$0.description] } ?? [])
        if let r = item.record {
            parts.append("seed \(r.seed)")
            parts.append("\(r.steps) steps \(r.sampler.rawValue)")
            parts.append("cfg \(ParameterField.format(r.guidance))")
            if r.isPersonalized {
                parts.append("σ \(ParameterField.format(r.identity.imageWeight))")
                parts.append("γ \(ParameterField.format(r.identity.textWeight))")
            }
            parts.append("\(r.width)x\(r.height)")
        }

        return parts.joined(separator: " · ")
    }
}
