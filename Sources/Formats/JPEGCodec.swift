import CImageCodecs
import Foundation

/// JPEG reading through libjpeg-turbo: baseline and progressive, grey, colour and CMYK,
/// turned upright according to the EXIF orientation tag.
public enum JPEGCodec {
    /// Decodes JPEG bytes. `file` names the source in errors.
    public static func decode(_ data: Data, file: String = "<memory>",
                              maxPixels: Int = ImageSizeLimit.defaultMaxPixels,
                              applyOrientation: Bool = true) throws -> RGBImage {
        try data.withUnsafeBytes { try decode($0, file: file, maxPixels: maxPixels, applyOrientation: applyOrientation) }
    }

    public static func read(_ url: URL, maxPixels: Int = ImageSizeLimit.defaultMaxPixels,
                            applyOrientation: Bool = true) throws -> RGBImage {
        let mapping = try MappedFile(url: url)
        return try decode(mapping.bytes, file: url.path, maxPixels: maxPixels, applyOrientation: applyOrientation)
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, file: String, maxPixels: Int,
                       applyOrientation: Bool) throws -> RGBImage {
        guard bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF else {
            throw FormatError(file: file, problem: .wrongMagic, message: "not a JPEG file (no start-of-image marker)")
        }
        let (image, exif) = try CodecBridge.decode(bytes, file: file, format: "JPEG", maxPixels: maxPixels,
                                                   decoder: pv_jpeg_decode)
        guard applyOrientation, let orientation = ExifOrientation.parse(exif: exif) else { return image }
        return orientation.apply(to: image)
    }
}
