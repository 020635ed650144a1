import CImageCodecs
import Foundation

/// The glue between the C codecs (status + message buffer + malloc'd output) and Swift
/// values and `FormatError`s.
enum CodecBridge {
    static let errorCapacity = 512

    /// Calls a C function that reports into a message buffer; returns its status and message.
    static func call(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) -> (status: Int32, message: String) {
        var error = [CChar](repeating: 0, count: errorCapacity)
        let status = error.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        let message = error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return (status, message)
    }

    /// The FormatError for a failure status (nil for success). `width`/`height` are the
    /// header dimensions, which the codecs fill in before refusing a too-large image.
    static func error(status: Int32, message: String, file: String, format: String,
                      width: Int, height: Int, maxPixels: Int) -> FormatError? {
        switch UInt32(bitPattern: status) {
        case PV_CODEC_OK.rawValue:
            return nil
        case PV_CODEC_TRUNCATED.rawValue:
            return FormatError(file: file, problem: .truncated, message: "truncated \(format) data: \(message)")
        case PV_CODEC_TOO_LARGE.rawValue:
            return ImageSizeLimit.error(width: width, height: height, maxPixels: maxPixels, file: file)
        case PV_CODEC_OUT_OF_MEMORY.rawValue:
            return FormatError(file: file, problem: .corruptData, message: "out of memory while decoding \(format)")
        default:
            return FormatError(file: file, problem: .corruptData, message: "invalid \(format) data: \(message)")
        }
    }

    typealias Decoder = (UnsafePointer<UInt8>?, Int, UInt64, UnsafeMutablePointer<pv_decoded_image>?,
                         UnsafeMutablePointer<CChar>?, Int) -> Int32

    /// Decodes with `decoder` (pv_png_decode or pv_jpeg_decode) into an RGBImage plus the EXIF bytes.
    static func decode(_ bytes: UnsafeRawBufferPointer, file: String, format: String, maxPixels: Int,
                       decoder: Decoder) throws -> (image: RGBImage, exif: [UInt8]) {
        var decoded = pv_decoded_image()
        defer { pv_decoded_image_free(&decoded) }
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let (status, message) = call { error, capacity in
            decoder(base, bytes.count, UInt64(max(0, maxPixels)), &decoded, error, capacity)
        }
        let width = Int(decoded.width), height = Int(decoded.height)
        if let failure = error(status: status, message: message, file: file, format: format,
                               width: width, height: height, maxPixels: maxPixels) {
            throw failure
        }
        let count = width * height * Int(decoded.channels)
        let interleaved = Array(UnsafeBufferPointer(start: decoded.pixels, count: count))
        let image = decoded.channels == 4
            ? RGBImage(width: width, height: height, rgba: interleaved)
            : RGBImage(width: width, height: height, pixels: interleaved)
        let exif = decoded.exif.map { Array(UnsafeBufferPointer(start: $0, count: decoded.exif_size)) } ?? []
        return (image, exif)
    }
}
