import Formats

/// Paints images into the screen areas the app owns, around ncurses (which knows nothing
/// of them). Each frame: `beginFrame` before the ncurses refresh (returns the rows whose
/// image pixels went stale: the app has ncurses rewrite them, and in sixel mode they are
/// also painted over with the background), then `endFrame` after the refresh, which writes
/// the images that changed, moved, or sat on rewritten rows. Writes are wrapped in
/// save/restore cursor (DECSC/DECRC) so ncurses' idea of the cursor and colours stays true.
public final class ImageRegionPainter {
    public let mode: ImageMode
    public let depth: ColorDepth
    public var cellSize: PixelSize
    /// Inside tmux: graphics escapes go through its passthrough; kitty images use placeholders.
    public let insideTmux: Bool
    private let output: (String) -> Void
    /// kitty image ids per region (below 256, so that a 256-colour foreground can carry them).
    private var kittyIDs: [String: UInt32] = [:]

    struct Placement {
        var cells: CellRect
        var version: Int
        var background: RGBColor
        var rendered: String
    }

    private var onScreen: [String: Placement] = [:]
    private var pending: [String: (region: ImageRegion, cells: CellRect)] = [:]
    /// How many images were written so far (tests and the latency trace read it).
    public private(set) var paintCount = 0

    public init(mode: ImageMode, depth: ColorDepth, cellSize: PixelSize = .typicalCell, insideTmux: Bool = false,
                output: @escaping (String) -> Void) {
        self.mode = mode
        self.depth = depth
        self.cellSize = cellSize
        self.insideTmux = insideTmux
        self.output = output
    }

    private func kittyID(_ region: String) -> UInt32 {
        if let id = kittyIDs[region] { return id }
        let id = UInt32(kittyIDs.count % 254 + 1)
        kittyIDs[region] = id
        return id
    }

    /// The pixel size an image is drawn at in `box`, and the cells it covers (centred in `box`).
    public func placement(of image: RGBImage, in box: CellRect) -> (pixels: PixelSize, cells: CellRect) {
        let size = PixelSize(width: image.width, height: image.height)
        switch mode {
        case .none:
            return (size, .zero)
        case .blocks:
            let fitted = ImageFitting.fit(size, into: PixelSize(width: box.width, height: box.height * 2))
            let rows = (fitted.height + 1) / 2
            return (fitted, centred(columns: fitted.width, rows: rows, in: box))
        case .sixel:
            // Sixel rows come in bands of 6 pixels: keep whole bands inside the box.
            let boxPixels = PixelSize(width: box.width * cellSize.width, height: (box.height * cellSize.height) / 6 * 6)
            var fitted = ImageFitting.fit(size, into: boxPixels)
            fitted.height = max(6, fitted.height / 6 * 6)
            let columns = (fitted.width + cellSize.width - 1) / cellSize.width
            let rows = (fitted.height + cellSize.height - 1) / cellSize.height
            return (fitted, centred(columns: columns, rows: rows, in: box))
        case .kitty, .iterm:
            // The terminal scales the pixels to whole cells: fit the cells, send that many pixels.
            let boxPixels = PixelSize(width: box.width * cellSize.width, height: box.height * cellSize.height)
            let fitted = ImageFitting.fit(size, into: boxPixels)
            var columns = max(1, Int((Double(fitted.width) / Double(cellSize.width)).rounded()))
            var rows = max(1, Int((Double(fitted.height) / Double(cellSize.height)).rounded()))
            if mode == .kitty && insideTmux {
                columns = min(columns, KittyGraphics.maxCells)
                rows = min(rows, KittyGraphics.maxCells)
            }
            return (fitted, centred(columns: columns, rows: rows, in: box))
        }
    }

    private func centred(columns: Int, rows: Int, in box: CellRect) -> CellRect {
        let columns = min(columns, box.width), rows = min(rows, box.height)
        return CellRect(x: box.x + (box.width - columns) / 2, y: box.y + (box.height - rows) / 2, width: columns, height: rows)
    }

    /// Declares this frame's images by id. Returns the rows that held image pixels no image
    /// covers any more; the caller makes ncurses rewrite them in its next refresh.
    public func beginFrame(_ regions: [String: ImageRegion]) -> [Range<Int>] {
        guard mode != .none else { return [] }
        var wanted: [String: (region: ImageRegion, cells: CellRect)] = [:]
        for (id, region) in regions where !region.box.isEmpty && region.image.width > 0 && region.image.height > 0 {
            wanted[id] = (region, placement(of: region.image, in: region.box).cells)
        }
        var stale: [CellRect] = []
        for (id, placed) in onScreen where wanted[id]?.cells != placed.cells {
            stale.append(placed.cells)
            if mode == .sixel { output(Self.wrap(solidSixel(placed.cells, placed.background))) }
            if mode == .kitty { output(graphics(KittyGraphics.delete(id: kittyID(id)))) }
            onScreen[id] = nil
        }
        let staleRows = stale.map(\.rows)
        pending = wanted.filter { id, entry in
            guard let placed = onScreen[id], placed.version == entry.region.version else { return true }
            return staleRows.contains { $0.overlaps(entry.cells.rows) }
        }
        return staleRows
    }

    /// Writes the images that need it; call right after the ncurses refresh.
    public func endFrame() {
        for (id, entry) in pending.sorted(by: { $0.key < $1.key }) {
            let rendered: String
            if let placed = onScreen[id], placed.version == entry.region.version, placed.cells == entry.cells {
                rendered = placed.rendered
            } else {
                rendered = render(entry.region, id: id, cells: entry.cells)
            }
            output(Self.wrap(rendered))
            paintCount += 1
            onScreen[id] = Placement(cells: entry.cells, version: entry.region.version,
                                     background: entry.region.background, rendered: rendered)
        }
        pending = [:]
    }

    /// The screen was cleared (resize, full redraw): every image is painted again next frame.
    public func invalidateAll() {
        onScreen = [:]
    }

    private func render(_ region: ImageRegion, id: String, cells: CellRect) -> String {
        let pixels = placement(of: region.image, in: region.box).pixels
        // kitty and iTerm2 scale an image to its cells themselves: a small image (a 64x64
        // preview every step) goes as it is, not blown up to the panel's pixels first.
        let terminalScales = (mode == .kitty || mode == .iterm) && region.image.width <= pixels.width
        let scaled = terminalScales ? region.image : ImageFitting.scale(region.image, to: pixels)
        switch mode {
        case .none:
            return ""
        case .blocks:
            return HalfBlockRenderer.render(scaled, at: (cells.x, cells.y), depth: depth)
        case .sixel:
            return moveTo(cells) + ((try? SixelEncoder.encode(scaled)) ?? "")
        case .iterm:
            return moveTo(cells) + graphics((try? ITermInlineImage.encode(scaled, columns: cells.width, rows: cells.height)) ?? "")
        case .kitty:
            let image = kittyID(id)
            guard insideTmux else {
                return moveTo(cells) + KittyGraphics.transmit(scaled, id: image, columns: cells.width, rows: cells.height, virtual: false)
            }
            var text = graphics(KittyGraphics.transmit(scaled, id: image, columns: cells.width, rows: cells.height, virtual: true))
            for row in 0..<cells.height {
                text += "\u{1B}[\(cells.y + row + 1);\(cells.x + 1)H" + KittyGraphics.placeholderRow(id: image, row: row, columns: cells.width)
            }
            return text
        }
    }

    /// A graphics escape as the terminal will get it: through tmux's passthrough inside tmux.
    private func graphics(_ escape: String) -> String {
        insideTmux && !escape.isEmpty ? TmuxPassthrough.wrap(escape) : escape
    }

    /// A sixel of one colour over `cells`, which erases the pixels of an image drawn there.
    private func solidSixel(_ cells: CellRect, _ color: RGBColor) -> String {
        let size = PixelSize(width: cells.width * cellSize.width, height: cells.height * cellSize.height / 6 * 6)
        guard size.width > 0, size.height > 0 else { return "" }
        let solid = RGBImage(width: size.width, height: size.height, color: color)
        return moveTo(cells) + ((try? SixelEncoder.encode(solid, colors: 2)) ?? "")
    }

    private func moveTo(_ cells: CellRect) -> String { "\u{1B}[\(cells.y + 1);\(cells.x + 1)H" }

    /// Save cursor and attributes, draw, restore them: ncurses never notices.
    static func wrap(_ body: String) -> String { body.isEmpty ? "" : "\u{1B}7" + body + "\u{1B}8" }
}
