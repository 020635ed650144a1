import Formats

/// Scales images to fit a box on screen, keeping their aspect ratio.
public enum ImageFitting {
    /// The largest size with the image's aspect ratio that fits `box` (at least 1x1).
    public static func fit(_ size: PixelSize, into box: PixelSize) -> PixelSize {
        guard size.width > 0, size.height > 0, box.width > 0, box.height > 0 else { return PixelSize(width: 1, height: 1) }
        let scale = min(Double(box.width) / Double(size.width), Double(box.height) / Double(size.height))
        return PixelSize(width: max(1, min(box.width, Int((Double(size.width) * scale).rounded()))),
                         height: max(1, min(box.height, Int((Double(size.height) * scale).rounded()))))
    }

    /// `image` at exactly `size`: nearest-neighbour when enlarging a lot (a tiny latent preview
    /// stays crisp instead of blurred), Pillow-style bilinear otherwise (antialiased shrinking).
    public static func scale(_ image: RGBImage, to size: PixelSize) -> RGBImage {
        if size.width == image.width, size.height == image.height { return image.flattened() }
        if size.width >= 2 * image.width || size.height >= 2 * image.height {
            return nearest(image.flattened(), to: size)
        }
        return image.resized(width: size.width, height: size.height, filter: .bilinear)
    }

    static func nearest(_ image: RGBImage, to size: PixelSize) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: size.width * size.height * 3)
        for y in 0..<size.height {
            let sourceY = min(image.height - 1, y * image.height / size.height)
            for x in 0..<size.width {
                let sourceX = min(image.width - 1, x * image.width / size.width)
                let from = (sourceY * image.width + sourceX) * 3, to = (y * size.width + x) * 3
                pixels[to] = image.pixels[from]
                pixels[to + 1] = image.pixels[from + 1]
                pixels[to + 2] = image.pixels[from + 2]
            }
        }
        return RGBImage(width: size.width, height: size.height, pixels: pixels)
    }
}
