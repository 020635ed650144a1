import Foundation
import Terminal
#if canImport(Glibc)
import Glibc
#endif

/// Draws one frame: the panels through ncurses, then the images around the refresh
/// (ImageRegionPainter). A size change or Ctrl-L clears the screen and repaints all.
final class FrameRenderer {
    let screen: CursesScreen
    let painter: ImageRegionPainter
    private(set) var styles: ThemeStyles
    private var lastSize = (columns: 0, rows: 0)

    init(screen: CursesScreen, painter: ImageRegionPainter, theme: Theme) {
        self.screen = screen
        self.painter = painter
        styles = ThemeStyles(theme: theme, screen: screen)
        screen.fillBackground(styles[.text])
    }

    var themeName: String { styles.theme.name }

    func setTheme(_ theme: Theme) {
        styles = ThemeStyles(theme: theme, screen: screen)
        screen.fillBackground(styles[.text])
        repaintAll()
    }

    func repaintAll() {
        screen.redrawEverything()
        painter.invalidateAll()
    }

    func draw(_ app: AppController) {
        let columns = screen.columns, rows = screen.rows
        if columns != lastSize.columns || rows != lastSize.rows || app.fullRedrawRequested {
            lastSize = (columns, rows)
            app.fullRedrawRequested = false
            repaintAll()
        }
        screen.erase()
        let canvas = Canvas(screen: screen, styles: styles, imageMode: painter.mode)
        if let layout = ScreenLayout.compute(columns: columns, rows: rows) {
            drawPanels(app, layout, on: canvas)
            if let box = drawOverlay(app, layout, columns: columns, rows: rows, on: canvas) {
                canvas.removeRegions(under: box)
            }
        } else {
            TooSmallView.draw(columns: columns, rows: rows, on: canvas)
        }
        for rows in painter.beginFrame(canvas.regions) { screen.rewriteRows(rows) }
        if let cursor = canvas.cursor {
            screen.placeCursor(x: cursor.x, y: cursor.y, visible: true)
        } else {
            screen.placeCursor(x: 0, y: 0, visible: false)
        }
        screen.refresh()
        painter.endFrame()
        fflush(stdout)
    }

    private func drawPanels(_ app: AppController, _ layout: ScreenLayout, on canvas: Canvas) {
        TitleLineView.draw(app, in: layout.title, imageMode: painter.mode, on: canvas)
        ReferencePanelView.draw(app, in: layout.reference, on: canvas)
        PromptPanelView.draw(app, in: layout.prompt, on: canvas)
        ParameterPanelView.draw(app, in: layout.parameters, on: canvas)
        PreviewPanelView.draw(app, in: layout.preview, on: canvas)
        GalleryPanelView.draw(app, in: layout.gallery, on: canvas)
        ProgressLineView.draw(app, in: layout.progress, on: canvas)
        StatusLineView.draw(app, in: layout.status, on: canvas)
    }

    /// Draws the open overlay, if any; returns the area it covers.
    private func drawOverlay(_ app: AppController, _ layout: ScreenLayout, columns: Int, rows: Int, on canvas: Canvas) -> CellRect? {
        switch app.overlay {
        case .help?:
            app.helpScroll = HelpOverlayView.clampedScroll(app.helpScroll, columns: columns, rows: rows)
            return HelpOverlayView.draw(columns: columns, rows: rows, scroll: app.helpScroll, on: canvas)
        case .picker?:
            guard let browser = app.picker else { return nil }
            let box = CellRect(x: 0, y: layout.reference.y, width: layout.reference.width,
                               height: layout.parameters.maxY - layout.reference.y)
            FilePickerView.draw(browser, filtering: app.pickerFiltering, purpose: app.pickerPurpose, in: box, on: canvas)
            return box
        case .confirmQuit?:
            // The question stays when the run ends under it (its y may already be on its way), and
            // says so: the run is no longer at stake.
            let question = app.isBusy ? "A run is going. Quit anyway?" : "The run has ended. Quit?"
            return ConfirmView.draw(question, columns: columns, rows: rows, on: canvas)
        case .confirmDelete(let url)?:
            return ConfirmView.draw("Move \(url.lastPathComponent) to the trash?", columns: columns, rows: rows, on: canvas)
        case .sweepEntry?:
            return SweepView.drawEntry(app, columns: columns, rows: rows, on: canvas)
        case .valueEntry?, .loraScaleEntry?, nil:
            return nil
        }
    }
}
