import Terminal

/// One frame being drawn: text through ncurses in theme roles, and the image regions the
/// frame wants (painted by the ImageRegionPainter after the ncurses refresh).
final class Canvas {
    let screen: CursesScreen
    let styles: ThemeStyles
    let imageMode: ImageMode
    private(set) var regions: [String: ImageRegion] = [:]
    /// Where the text cursor goes (while editing), nil = hidden.
    var cursor: (x: Int, y: Int)?

    init(screen: CursesScreen, styles: ThemeStyles, imageMode: ImageMode) {
        self.screen = screen
        self.styles = styles
        self.imageMode = imageMode
    }

    @discardableResult
    func text(_ string: String, x: Int, y: Int, role: ThemeRole = .text, width: Int? = nil, extra: TextAttributes = []) -> Int {
        screen.put(string, x: x, y: y, style: styles[role].adding(extra), maxWidth: width)
    }

    /// `string` centred in `rect`'s middle row.
    func centred(_ string: String, in rect: CellRect, role: ThemeRole = .hint, row: Int? = nil) {
        let shown = DisplayWidth.truncate(string, to: rect.width)
        let x = rect.x + max(0, (rect.width - DisplayWidth.of(shown)) / 2)
        text(shown, x: x, y: row ?? rect.y + rect.height / 2, role: role)
    }

    func fill(_ rect: CellRect, role: ThemeRole = .text) { screen.fill(rect, style: styles[role]) }

    /// A framed panel; the focused one has its border and title in the accent colour.
    /// A panel's box. The focused one has a double border and a bold reversed title, so it
    /// stands out in 16 colours (where every border may be the same white) and without colour.
    func panel(_ rect: CellRect, title: String, focused: Bool) {
        var frame = styles[focused ? .accent : .border]
        frame.attributes.remove(.underline)   // underlined line-drawing characters look broken
        var heading = styles[focused ? .accent : .title].adding(.bold)
        if focused { heading = heading.adding(.reverse) }
        heading.attributes.remove(.underline)
        screen.frame(rect, style: frame, title: title, titleStyle: heading, double: focused)
    }

    /// Asks for `shown` in `box`; without images, a text placeholder stands in.
    func image(_ id: String, _ shown: ShownImage?, in box: CellRect, placeholder: String) {
        guard let shown, !box.isEmpty else { return }
        if imageMode == .none {
            centred("[\(placeholder) \(shown.image.width)x\(shown.image.height)]", in: box)
            return
        }
        regions[id] = ImageRegion(box: box, image: shown.image, version: shown.version, background: styles.background)
    }

    /// Drops the images under an overlay (sixel pixels would cover its text).
    func removeRegions(under rect: CellRect) {
        regions = regions.filter { !$0.value.box.intersects(rect) }
    }
}
