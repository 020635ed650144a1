import Terminal

/// The top line: the program, the model, how images are drawn, the theme.
enum TitleLineView {
    static func draw(_ app: AppController, in rect: CellRect, imageMode: ImageMode, on canvas: Canvas) {
        let name: String
        switch app.model {
        case .loading(let model): name = model + " (loading)"
        case .ready(let model): name = model.name + (model.hasIdentity ? "" : " (no adapter)")
        case .failed: name = "no model"
        }
        canvas.fill(rect, role: .title)
        let used = canvas.text(" PhotoVerse", x: rect.x, y: rect.y, role: .title, extra: .bold)
        canvas.text(" · \(name) · \(imageMode.rawValue) · \(app.themeName)", x: rect.x + used, y: rect.y, role: .title,
                    width: rect.width - used)
        let help = "? help "
        canvas.text(help, x: rect.maxX - DisplayWidth.of(help), y: rect.y, role: .hint)
    }
}
