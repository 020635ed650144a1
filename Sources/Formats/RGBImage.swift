/// An 8-bit RGB colour.
public struct RGBColor: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    public static let white = RGBColor(255, 255, 255)
    public static let black = RGBColor(0, 0, 0)

    public var description: String { "(\(red), \(green), \(blue))" }
}

/// An 8-bit sRGB picture, top row first.
///
/// Design: colour is always three interleaved channels, so every consumer (models,
/// previews, the PNG writer) handles one layout. Alpha, when the source file had it, is
/// kept beside the colour as straight (not premultiplied) coverage; consumers that cannot
/// use it call `flattened(onto:)`, which composites on white, as a viewer would show it.
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// R, G, B bytes per pixel; pixel (x, y) starts at `3 * (y * width + x)`.
    public var pixels: [UInt8]
    /// One byte of alpha per pixel (255 = opaque), or nil for an opaque image.
    public var alpha: [UInt8]?

    public init(width: Int, height: Int, pixels: [UInt8], alpha: [UInt8]? = nil) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)x\(height)")
        precondition(pixels.count == width * height * 3,
                     "\(width)x\(height) RGB needs \(width * height * 3) bytes, got \(pixels.count)")
        precondition(alpha == nil || alpha!.count == width * height,
                     "\(width)x\(height) alpha needs \(width * height) bytes, got \(alpha!.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
        self.alpha = alpha
    }

    /// A uniform opaque image.
    public init(width: Int, height: Int, color: RGBColor) {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for index in 0..<(width * height) {
            pixels[3 * index] = color.red
            pixels[3 * index + 1] = color.green
            pixels[3 * index + 2] = color.blue
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// From interleaved RGBA bytes; the alpha bytes become the `alpha` plane.
    public init(width: Int, height: Int, rgba: [UInt8]) {
        precondition(rgba.count == width * height * 4,
                     "\(width)x\(height) RGBA needs \(width * height * 4) bytes, got \(rgba.count)")
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var alpha = [UInt8](repeating: 0, count: width * height)
        for index in 0..<(width * height) {
            pixels[3 * index] = rgba[4 * index]
            pixels[3 * index + 1] = rgba[4 * index + 1]
            pixels[3 * index + 2] = rgba[4 * index + 2]
            alpha[index] = rgba[4 * index + 3]
        }
        self.init(width: width, height: height, pixels: pixels, alpha: alpha)
    }

    public func color(x: Int, y: Int) -> RGBColor {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)x\(height)")
        let offset = 3 * (y * width + x)
        return RGBColor(pixels[offset], pixels[offset + 1], pixels[offset + 2])
    }

    /// Alpha at (x, y); 255 for an opaque image.
    public func alpha(x: Int, y: Int) -> UInt8 {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)x\(height)")
        return alpha?[y * width + x] ?? 255
    }

    /// Interleaved RGBA bytes (alpha 255 where the image is opaque).
    public var rgbaBytes: [UInt8] {
        var rgba = [UInt8](repeating: 255, count: width * height * 4)
        for index in 0..<(width * height) {
            rgba[4 * index] = pixels[3 * index]
            rgba[4 * index + 1] = pixels[3 * index + 1]
            rgba[4 * index + 2] = pixels[3 * index + 2]
            if let alpha { rgba[4 * index + 3] = alpha[index] }
        }
        return rgba
    }

    /// The picture composited over `background` ("over" with straight alpha, rounded),
    /// without an alpha plane. An opaque image is returned unchanged.
    public func flattened(onto background: RGBColor = .white) -> RGBImage {
        guard let alpha else { return self }
        var result = pixels
        let backdrop = [background.red, background.green, background.blue]
        for index in 0..<(width * height) {
            let coverage = UInt32(alpha[index])
            for channel in 0..<3 {
                let foreground = UInt32(pixels[3 * index + channel])
                let mixed = foreground * coverage + UInt32(backdrop[channel]) * (255 - coverage)
                result[3 * index + channel] = UInt8((mixed + 127) / 255)
            }
        }
        return RGBImage(width: width, height: height, pixels: result)
    }
}
