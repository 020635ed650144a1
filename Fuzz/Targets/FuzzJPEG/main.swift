import Foundation
import Formats
import FuzzSupport

/// JPEG decoding (libjpeg-turbo through the C glue) with EXIF orientation, on arbitrary bytes.
func fuzzJPEG(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = FuzzCheck.data(start, count)
    let maxPixels = 1 << 16   // 256x256: the limit logic is the same at any size, and small images keep the search fast
    do {
        let image = try JPEGCodec.decode(data, file: "fuzz.jpg", maxPixels: maxPixels, applyOrientation: true)
        FuzzCheck.expect(image.width > 0 && image.height > 0 && image.width * image.height <= maxPixels, "jpeg",
                         "decoded \(image.width)x\(image.height) past the limit")
        FuzzCheck.expect(image.pixels.count == image.width * image.height * 3, "jpeg", "pixel count")
    } catch {
        FuzzCheck.clearError(error, "jpeg")
    }
    do {
        _ = try ImageFile.decode(data, file: "fuzz.jpg", maxPixels: maxPixels)
    } catch {
        FuzzCheck.clearError(error, "image")
    }
    return 0
}

FuzzCheck.run(fuzzJPEG)
