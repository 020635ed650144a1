import Foundation
import Formats
import FuzzSupport

/// PNG decoding (libpng through the C glue) and text-chunk reading on arbitrary bytes.
/// The pixel limit is lowered so that big-but-legal images do not slow the search down.
func fuzzPNG(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = FuzzCheck.data(start, count)
    let maxPixels = 1 << 16   // 256x256: the limit logic is the same at any size, and small images keep the search fast
    do {
        let image = try PNGCodec.decode(data, file: "fuzz.png", maxPixels: maxPixels)
        FuzzCheck.expect(image.width > 0 && image.height > 0 && image.width * image.height <= maxPixels, "png",
                         "decoded \(image.width)x\(image.height) past the limit")
        FuzzCheck.expect(image.pixels.count == image.width * image.height * 3, "png", "pixel count")
        let again = try PNGCodec.decode(try PNGCodec.encode(image), file: "round-trip.png", maxPixels: maxPixels)
        FuzzCheck.expect(again.width == image.width && again.height == image.height && again.pixels == image.pixels
                         && again.alpha == image.alpha, "png", "encode/decode round trip changed the image")
    } catch {
        FuzzCheck.clearError(error, "png")
    }
    do {
        let text = try PNGCodec.text(data, file: "fuzz.png", maxPixels: maxPixels)
        _ = text.count
    } catch {
        FuzzCheck.clearError(error, "png text")
    }
    do {
        _ = try ImageFile.decode(data, file: "fuzz.png", maxPixels: maxPixels)
    } catch {
        FuzzCheck.clearError(error, "image")
    }
    return 0
}

FuzzCheck.run(fuzzPNG)
