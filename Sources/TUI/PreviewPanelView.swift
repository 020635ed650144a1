import Foundation
import Terminal

/// The big image: the live preview while denoising (the cheap latent projection, every
/// step), then the result; in compare mode the reference face beside the result.
enum PreviewPanelView {
    static func draw(_ app: AppController, in rect: CellRect, on canvas: Canvas) {
        if app.overlay == .picker, let entry = app.picker?.selected, entry.kind == .image {
            drawPickerPhoto(app, entry.url, in: rect, on: canvas)
            return
        }
        if let sweep = app.sweep {
            SweepView.draw(app, sweep, in: rect, on: canvas)
            return
        }
        var title = "Preview"
        if let run = app.run {
            title += run.step > 0 ? " · step \(run.step)/\(run.total) · seed \(run.seed)" : " · starting · seed \(run.seed)"
        } else if let item = app.gallery.selected {
            title += " · \(item.url.lastPathComponent)"
            if let seed = item.record?.seed { title += " · seed \(seed)" }
        }
        canvas.panel(rect, title: title, focused: false)
        let inner = rect.inset(by: 1)
        guard !inner.isEmpty else { return }
        let shown = app.previewImage
        if app.comparing, app.run == nil, let face = app.referenceFace, let shown {
            // the identity score, when the result has one, on a line of its own under both
            let score = app.gallery.selected?.score
            let captionRow = inner.maxY - (score == nil ? 1 : 2)
            let half = (inner.width - 1) / 2
            let boxes = [CellRect(x: inner.x, y: inner.y, width: half, height: captionRow - inner.y),
                         CellRect(x: inner.x + half + 1, y: inner.y, width: inner.width - half - 1, height: captionRow - inner.y)]
            canvas.image("preview-compare-reference", face, in: boxes[0], placeholder: "reference")
            canvas.image("preview", shown, in: boxes[1], placeholder: "result")
            canvas.centred("reference", in: CellRect(x: boxes[0].x, y: captionRow, width: boxes[0].width, height: 1))
            canvas.centred("result (c: back)", in: CellRect(x: boxes[1].x, y: captionRow, width: boxes[1].width, height: 1))
            if let score {
                canvas.centred(score.description, in: CellRect(x: inner.x, y: inner.maxY - 1, width: inner.width, height: 1))
            }
            return
        }
        if let shown {
            canvas.image("preview", shown, in: inner, placeholder: app.livePreview != nil ? "preview" : "result")
            return
        }
        switch app.model {
        case .loading(let name): canvas.centred("loading \(name)…", in: inner)
        case .failed(let reason):
            // The whole reason, wrapped: a long path would be cut off in the status line.
            let characters = Array(reason)
            let lines = TextWrapping.lines(characters, width: max(1, inner.width - 2))
            for (row, line) in lines.prefix(inner.height).enumerated() {
                canvas.text(String(characters[line.start..<line.end]), x: inner.x + 1, y: inner.y + 1 + row, role: .error)
            }
        case .ready: canvas.centred(app.isBusy ? "starting…" : "press g to generate", in: inner)
        }
    }

    /// The photo highlighted in the picker and the face crop picking it would give, side by side.
    static func drawPickerPhoto(_ app: AppController, _ url: URL, in rect: CellRect, on canvas: Canvas) {
        canvas.panel(rect, title: "Photo · \(url.lastPathComponent)", focused: false)
        let inner = rect.inset(by: 1)
        guard !inner.isEmpty else { return }
        guard let photo = app.pickerPreview, photo.path == url.path else {
            canvas.centred("reading \(url.lastPathComponent)…", in: inner)
            return
        }
        let half = (inner.width - 1) / 2
        let boxes = [CellRect(x: inner.x, y: inner.y, width: half, height: inner.height - 1),
                     CellRect(x: inner.x + half + 1, y: inner.y, width: inner.width - half - 1, height: inner.height - 1)]
        canvas.image("picker-photo", app.pickerPreviewPhoto, in: boxes[0], placeholder: "photo")
        canvas.image("picker-face", app.pickerPreviewFace, in: boxes[1], placeholder: "face")
        let summary = photo.failed ? photo.summary : "\(photo.summary) · crop \(photo.crop)"
        canvas.text(summary, x: inner.x + 1, y: inner.maxY - 1, role: photo.failed ? .error : .hint, width: inner.width - 2)
    }
}
