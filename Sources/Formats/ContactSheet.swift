/// A grid of equally sized pictures with a label over each column and before each row
/// (5x7 bitmap text), on a dark background: what `photoverse sweep` writes as `sheet.png`.
public enum ContactSheet {
    public static let background = RGBColor(24, 24, 24)
    public static let ink = RGBColor(230, 230, 230)
    static let gap = 4

    /// `cells[row][column]`; each cell may carry a caption drawn under it (e.g. a score).
    public static func render(cells: [[RGBImage]], columnLabels: [String], rowLabels: [String],
                              captions: [[String]] = [], title: String = "") -> RGBImage {
        let rows = cells.count, columns = cells.first?.count ?? 0
        let cellWidth = cells.flatMap { $0 }.map(\.width).max() ?? 0
        let cellHeight = cells.flatMap { $0 }.map(\.height).max() ?? 0
        // Small cells are drawn twice as large, so that faces and labels read.
        let zoom = cellWidth < 128 ? 2 : 1
        let lineHeight = BitmapFont.glyphHeight + 4
        let left = (rowLabels.map { BitmapFont.width($0) }.max() ?? 0) + 2 * gap
        let top = (title.isEmpty ? 0 : lineHeight) + lineHeight + gap
        let captionHeight = captions.isEmpty ? 0 : lineHeight
        let width = left + columns * (cellWidth * zoom + gap) + gap
        let height = top + rows * (cellHeight * zoom + captionHeight + gap) + gap
        var sheet = RGBImage(width: max(width, 1), height: max(height, 1), color: background)
        if !title.isEmpty { BitmapFont.draw(title, into: &sheet, x: gap, y: gap, color: ink) }
        for (column, label) in columnLabels.enumerated() where column < columns {
            let x = left + column * (cellWidth * zoom + gap)
            BitmapFont.draw(label, into: &sheet, x: x, y: top - lineHeight, color: ink)
        }
        for row in 0..<rows {
            let y = top + row * (cellHeight * zoom + captionHeight + gap)
            if row < rowLabels.count {
                BitmapFont.draw(rowLabels[row], into: &sheet, x: gap, y: y + cellHeight * zoom / 2 - BitmapFont.glyphHeight / 2, color: ink)
            }
            for column in 0..<min(columns, cells[row].count) {
                let x = left + column * (cellWidth * zoom + gap)
                paste(cells[row][column], into: &sheet, x: x, y: y, zoom: zoom)
                if row < captions.count, column < captions[row].count {
                    BitmapFont.draw(captions[row][column], into: &sheet, x: x, y: y + cellHeight * zoom + 2, color: ink)
                }
            }
        }
        return sheet
    }

    /// Copies `image` at (x, y), each pixel as a `zoom` x `zoom` block.
    static func paste(_ image: RGBImage, into sheet: inout RGBImage, x: Int, y: Int, zoom: Int) {
        for sy in 0..<image.height {
            for sx in 0..<image.width {
                let color = image.color(x: sx, y: sy)
                for dy in 0..<zoom {
                    for dx in 0..<zoom { sheet.setPixel(x: x + sx * zoom + dx, y: y + sy * zoom + dy, color) }
                }
            }
        }
    }
}

extension RGBImage {
    /// Sets one pixel; outside the image it does nothing.
    public mutating func setPixel(x: Int, y: Int, _ color: RGBColor) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let offset = 3 * (y * width + x)
        pixels[offset] = color.red
        pixels[offset + 1] = color.green
        pixels[offset + 2] = color.blue
    }
}
