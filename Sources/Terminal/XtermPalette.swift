import Formats

/// The xterm 256-colour palette: 16 system colours, a 6x6x6 cube and 24 greys.
public enum XtermPalette {
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// The standard VGA-like values of colours 0-15 (xterm's defaults).
    static let systemColors: [RGBColor] = [
        RGBColor(0, 0, 0), RGBColor(205, 0, 0), RGBColor(0, 205, 0), RGBColor(205, 205, 0),
        RGBColor(0, 0, 238), RGBColor(205, 0, 205), RGBColor(0, 205, 205), RGBColor(229, 229, 229),
        RGBColor(127, 127, 127), RGBColor(255, 0, 0), RGBColor(0, 255, 0), RGBColor(255, 255, 0),
        RGBColor(92, 92, 255), RGBColor(255, 0, 255), RGBColor(0, 255, 255), RGBColor(255, 255, 255),
    ]

    /// The RGB value of palette index 0...255.
    public static func color(_ index: Int) -> RGBColor {
        switch index {
        case 0..<16:
            return systemColors[index]
        case 16..<232:
            let i = index - 16
            return RGBColor(UInt8(cubeLevels[i / 36]), UInt8(cubeLevels[(i / 6) % 6]), UInt8(cubeLevels[i % 6]))
        default:
            let level = UInt8(8 + 10 * (min(index, 255) - 232))
            return RGBColor(level, level, level)
        }
    }

    /// The nearest of indices 16...255 (the cube and the greys; the system colours vary by terminal).
    public static func nearest256(_ color: RGBColor) -> Int {
        func cubeIndex(_ value: UInt8) -> Int {
            let v = Int(value)
            if v < 48 { return 0 }
            if v < 115 { return 1 }
            return (v - 35) / 40
        }
        let r = cubeIndex(color.red), g = cubeIndex(color.green), b = cubeIndex(color.blue)
        let cube = 16 + 36 * r + 6 * g + b
        let average = (Int(color.red) + Int(color.green) + Int(color.blue)) / 3
        let grey = average > 238 ? 255 : 232 + max(0, (average - 3) / 10)
        return distance(color, self.color(grey)) < distance(color, self.color(cube)) ? grey : cube
    }

    /// The nearest of the 8 basic colours (0...7), for terminals with no more.
    public static func nearest8(_ color: RGBColor) -> Int {
        (0..<8).min { distance(color, systemColors[$0]) < distance(color, systemColors[$1]) } ?? 7
    }

    static func distance(_ a: RGBColor, _ b: RGBColor) -> Int {
        let dr = Int(a.red) - Int(b.red), dg = Int(a.green) - Int(b.green), db = Int(a.blue) - Int(b.blue)
        return 2 * dr * dr + 4 * dg * dg + 3 * db * db
    }
}
