import Foundation
import Terminal

/// The reference panel: the photo and its face crop side by side, the path and what the
/// preparation found ("1 face · crop 1.3x") underneath.
enum ReferencePanelView {
    static func draw(_ app: AppController, in rect: CellRect, on canvas: Canvas) {
        canvas.panel(rect, title: "Reference", focused: app.focus == .reference && app.overlay == nil && app.sweep == nil)
        let inner = rect.inset(by: 1)
        guard inner.height >= 2 else { return }
        let imageArea = CellRect(x: inner.x, y: inner.y, width: inner.width, height: inner.height - 2)
        let pathRow = inner.maxY - 2, summaryRow = inner.maxY - 1
        guard let path = app.settings.referencePath else {
            canvas.centred("no reference photo", in: imageArea)
            canvas.text("Enter: pick a photo of a face", x: inner.x, y: summaryRow, role: .hint, width: inner.width)
            return
        }
        let half = (imageArea.width - 1) / 2
        let photoBox = CellRect(x: imageArea.x, y: imageArea.y, width: half, height: imageArea.height)
        let faceBox = CellRect(x: imageArea.x + half + 1, y: imageArea.y, width: imageArea.width - half - 1, height: imageArea.height)
        canvas.image("reference-photo", app.referencePhoto, in: photoBox, placeholder: "photo")
        canvas.image("reference-face", app.referenceFace, in: faceBox, placeholder: "face")
        if app.reference == nil { canvas.centred("loading…", in: imageArea) }
        canvas.text(PathDisplay.shortened(path, to: inner.width), x: inner.x, y: pathRow, width: inner.width)
        if let reference = app.reference {
            canvas.text(reference.summary + "  crop: \(app.settings.crop)", x: inner.x, y: summaryRow,
                        role: reference.failed ? .error : .hint, width: inner.width)
        }
    }
}
