/// The EXIF orientation tag (0x0112): how the stored pixels must be turned to be shown
/// upright. Cameras store the sensor's pixels and set this tag rather than rotating, so
/// a portrait photo would reach the face pipeline sideways without it.
public enum ExifOrientation: Int, Sendable, CaseIterable {
    case identity = 1
    case mirrorHorizontal = 2
    case rotate180 = 3
    case mirrorVertical = 4
    /// Mirror across the top-left to bottom-right diagonal.
    case transpose = 5
    case rotate90Clockwise = 6
    /// Mirror across the top-right to bottom-left diagonal.
    case transverse = 7
    case rotate90CounterClockwise = 8

    /// Reads the tag from EXIF data (the TIFF structure after "Exif\0\0"): IFD0's 0x0112
    /// entry. Returns nil when absent, malformed or out of range; never reads out of bounds.
    public static func parse(exif: [UInt8]) -> ExifOrientation? {
        guard exif.count >= 8 else { return nil }
        let littleEndian: Bool
        switch (exif[0], exif[1]) {
        case (0x49, 0x49): littleEndian = true   // "II"
        case (0x4D, 0x4D): littleEndian = false  // "MM"
        default: return nil
        }
        func u16(_ offset: Int) -> Int? {
            guard offset >= 0, offset + 2 <= exif.count else { return nil }
            let (a, b) = (Int(exif[offset]), Int(exif[offset + 1]))
            return littleEndian ? a | b << 8 : a << 8 | b
        }
        func u32(_ offset: Int) -> Int? {
            guard let low = u16(littleEndian ? offset : offset + 2),
                  let high = u16(littleEndian ? offset + 2 : offset) else { return nil }
            return low | high << 16
        }
        guard u16(2) == 42, let ifd = u32(4), let entries = u16(ifd) else { return nil }
        for index in 0..<entries {
            let entry = ifd + 2 + 12 * index
            guard let tag = u16(entry) else { return nil }
            guard tag == 0x0112 else { continue }
            // SHORT (type 3), count 1: the value sits in the first two bytes of the value field.
            guard u16(entry + 2) == 3, let value = u16(entry + 8) else { return nil }
            return ExifOrientation(rawValue: value)
        }
        return nil
    }

    /// Whether width and height trade places.
    public var swapsDimensions: Bool { rawValue >= 5 }

    /// The upright picture: pixel (x, y) of the result comes from the stored pixel `source(x, y)`.
    public func apply(to image: RGBImage) -> RGBImage {
        if self == .identity { return image }
        let (width, height) = (image.width, image.height)  // stored size
        let outWidth = swapsDimensions ? height : width
        let outHeight = swapsDimensions ? width : height
        func source(_ x: Int, _ y: Int) -> Int {
            let (sx, sy): (Int, Int)
            switch self {
            case .identity: (sx, sy) = (x, y)
            case .mirrorHorizontal: (sx, sy) = (width - 1 - x, y)
            case .rotate180: (sx, sy) = (width - 1 - x, height - 1 - y)
            case .mirrorVertical: (sx, sy) = (x, height - 1 - y)
            case .transpose: (sx, sy) = (y, x)
            case .rotate90Clockwise: (sx, sy) = (y, height - 1 - x)
            case .transverse: (sx, sy) = (width - 1 - y, height - 1 - x)
            case .rotate90CounterClockwise: (sx, sy) = (width - 1 - y, x)
            }
            return sy * width + sx
        }
        var pixels = [UInt8](repeating: 0, count: image.pixels.count)
        var alpha = image.alpha.map { [UInt8](repeating: 0, count: $0.count) }
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                let from = source(x, y), to = y * outWidth + x
                pixels[3 * to] = image.pixels[3 * from]
                pixels[3 * to + 1] = image.pixels[3 * from + 1]
                pixels[3 * to + 2] = image.pixels[3 * from + 2]
                if let stored = image.alpha { alpha![to] = stored[from] }
            }
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: pixels, alpha: alpha)
    }
}
