/// Cropping that may reach past the edges: the parts outside the picture are filled, so
/// one call both crops and pads (a square around a face near the border, a letterbox).
extension RGBImage {
    /// The `width` x `height` region whose top-left corner is (`x`, `y`) in this picture's
    /// pixels; any part outside the picture is `fill`. Alpha, if any, is composited on white first.
    public func cropped(x: Int, y: Int, width newWidth: Int, height newHeight: Int, fill: RGBColor = .black) -> RGBImage {
        precondition(newWidth > 0 && newHeight > 0, "cannot crop an empty \(newWidth)x\(newHeight) region")
        let source = flattened()
        var out = RGBImage(width: newWidth, height: newHeight, color: fill).pixels
        // The overlap of the region with the picture, in the region's coordinates.
        let x0 = max(0, -x), x1 = min(newWidth, width - x)
        let y0 = max(0, -y), y1 = min(newHeight, height - y)
        if x0 < x1 && y0 < y1 {
            let count = (x1 - x0) * 3
            source.pixels.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for row in y0..<y1 {
                        let from = ((row + y) * width + x0 + x) * 3
                        let to = (row * newWidth + x0) * 3
                        (dst.baseAddress! + to).update(from: src.baseAddress! + from, count: count)
                    }
                }
            }
        }
        return RGBImage(width: newWidth, height: newHeight, pixels: out)
    }

    /// This picture centred on a square canvas of side max(width, height); the odd pixel of
    /// padding goes right/bottom. Returns the canvas and the picture's offset in it.
    public func paddedToSquare(fill: RGBColor = .black) -> (image: RGBImage, left: Int, top: Int) {
        let side = max(width, height)
        let left = (side - width) / 2, top = (side - height) / 2
        return (cropped(x: -left, y: -top, width: side, height: side, fill: fill), left, top)
    }
}
