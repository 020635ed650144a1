import Formats

/// Draws an image with Unicode half-blocks: each cell is `▀` with the foreground set to the
/// upper pixel and the background to the lower one, so a cell shows two square-ish pixels.
/// Without colour (NO_COLOR) each cell becomes a grey shading character instead.
public enum HalfBlockRenderer {
    public static let upperHalfBlock: Character = "▀"
    static let shades: [Character] = [" ", "░", "▒", "▓", "█"]

    /// The cell grid `image` needs: its width in columns and half its height (rounded up) in rows.
    public static func cellSize(of image: RGBImage) -> (columns: Int, rows: Int) {
        (image.width, (image.height + 1) / 2)
    }

    /// Escape sequences that draw `image` with its top left cell at `origin` (0-based).
    /// The image must already be scaled to its on-screen size (width = columns, height = 2 x rows).
    public static func render(_ image: RGBImage, at origin: (x: Int, y: Int), depth: ColorDepth) -> String {
        let opaque = image.flattened()
        let (columns, rows) = cellSize(of: opaque)
        var out = ""
        out.reserveCapacity(columns * rows * (depth == .trueColor ? 40 : 20))
        for row in 0..<rows {
            out += "\u{1B}[\(origin.y + row + 1);\(origin.x + 1)H"
            var lastForeground: RGBColor?, lastBackground: RGBColor?
            for column in 0..<columns {
                let upper = opaque.color(x: column, y: 2 * row)
                let lower = 2 * row + 1 < opaque.height ? opaque.color(x: column, y: 2 * row + 1) : upper
                if depth == .none {
                    out.append(shade(upper, lower))
                    continue
                }
                if upper != lastForeground {
                    out += "\u{1B}[38;\(code(upper, depth))m"
                    lastForeground = upper
                }
                if lower != lastBackground {
                    out += "\u{1B}[48;\(code(lower, depth))m"
                    lastBackground = lower
                }
                out.append(upperHalfBlock)
            }
            if depth != .none { out += "\u{1B}[0m" }
        }
        return out
    }

    /// The SGR colour parameters after 38/48: `2;r;g;b` (24-bit) or `5;n` (palette).
    static func code(_ color: RGBColor, _ depth: ColorDepth) -> String {
        switch depth {
        case .trueColor: return "2;\(color.red);\(color.green);\(color.blue)"
        case .palette256: return "5;\(XtermPalette.nearest256(color))"
        case .basic8, .none: return "5;\(XtermPalette.nearest8(color))"
        }
    }

    /// A shading character for the mean brightness of the cell's two pixels.
    static func shade(_ upper: RGBColor, _ lower: RGBColor) -> Character {
        func luma(_ c: RGBColor) -> Int { (299 * Int(c.red) + 587 * Int(c.green) + 114 * Int(c.blue)) / 1000 }
        let brightness = (luma(upper) + luma(lower)) / 2
        return shades[min(shades.count - 1, brightness * shades.count / 256)]
    }
}
