import Formats
import Terminal

/// A colour in a theme file: the terminal's default, one of the 16 named colours, or #rrggbb.
public enum ThemeColor: Equatable, Sendable {
    case terminalDefault
    case named(Int)          // 0...15
    case rgb(RGBColor)

    static let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    /// "default", "red", "bright-red", "#ff8700".
    init?(parsing text: String) {
        let value = text.lowercased()
        if value == "default" {
            self = .terminalDefault
        } else if let index = Self.names.firstIndex(of: value) {
            self = .named(index)
        } else if value.hasPrefix("bright-"), let index = Self.names.firstIndex(of: String(value.dropFirst(7))) {
            self = .named(index + 8)
        } else if value.hasPrefix("#"), value.count == 7, let number = UInt32(value.dropFirst(), radix: 16) {
            self = .rgb(RGBColor(UInt8(number >> 16), UInt8((number >> 8) & 0xFF), UInt8(number & 0xFF)))
        } else {
            return nil
        }
    }

    /// The ncurses colour number for a terminal with `colors` colours (-1 = default).
    func cursesNumber(colors: Int) -> Int {
        switch self {
        case .terminalDefault: return -1
        case .named(let index): return colors >= 16 ? index : index % 8
        case .rgb(let color): return colors >= 256 ? XtermPalette.nearest256(color) : XtermPalette.nearest8(color)
        }
    }

    /// The colour as RGB, for pixels painted next to text in this colour (nil = unknown default).
    var approximateRGB: RGBColor? {
        switch self {
        case .terminalDefault: return nil
        case .named(let index): return XtermPalette.color(index)
        case .rgb(let color): return color
        }
    }
}
