import Foundation

/// The image formats PhotoVerse reads, recognised by their first bytes (an extension can lie).
public enum ImageFormat: String, Sendable {
    case png = "PNG"
    case jpeg = "JPEG"

    /// The format whose signature starts `bytes`, or nil.
    public static func detect<Bytes: Collection>(_ bytes: Bytes) -> ImageFormat? where Bytes.Element == UInt8 {
        if bytes.starts(with: PNGCodec.signature) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    /// A name for well-known formats that are not supported, for a helpful message.
    static func unsupportedName<Bytes: Collection>(_ bytes: Bytes) -> String? where Bytes.Element == UInt8 {
        let head = Array(bytes.prefix(12))
        func starts(_ text: String, at offset: Int = 0) -> Bool {
            let ascii = Array(text.utf8)
            return head.count >= offset + ascii.count && Array(head[offset..<(offset + ascii.count)]) == ascii
        }
        if starts("GIF8") { return "GIF" }
        if starts("RIFF") && starts("WEBP", at: 8) { return "WebP" }
        if starts("BM") { return "BMP" }
        if starts("II*\0") || starts("MM\0*") { return "TIFF" }
        if starts("ftyp", at: 4) { return "HEIF/AVIF" }
        return nil
    }
}

/// Loads a picture from a file of any supported format.
public enum ImageFile {
    /// Reads `url` as PNG or JPEG (by content), applying EXIF orientation for JPEG.
    public static func load(_ url: URL, maxPixels: Int = ImageSizeLimit.defaultMaxPixels) throws -> RGBImage {
        let mapping = try MappedFile(url: url)
        return try decode(mapping.bytes, file: url.path, maxPixels: maxPixels)
    }

    public static func decode(_ data: Data, file: String = "<memory>",
                              maxPixels: Int = ImageSizeLimit.defaultMaxPixels) throws -> RGBImage {
        try data.withUnsafeBytes { try decode($0, file: file, maxPixels: maxPixels) }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, file: String, maxPixels: Int) throws -> RGBImage {
        switch ImageFormat.detect(bytes) {
        case .png:
            return try PNGCodec.decode(bytes, file: file, maxPixels: maxPixels)
        case .jpeg:
            return try JPEGCodec.decode(bytes, file: file, maxPixels: maxPixels, applyOrientation: true)
        case nil:
            if bytes.isEmpty {
                throw FormatError(file: file, problem: .truncated, message: "empty file, expected a PNG or JPEG image")
            }
            if let name = ImageFormat.unsupportedName(bytes) {
                throw FormatError(file: file, problem: .unsupported, message: "\(name) images are not supported; convert to PNG or JPEG")
            }
            let head = bytes.prefix(4).map { String(format: "%02X", $0) }.joined(separator: " ")
            throw FormatError(file: file, problem: .wrongMagic, message: "not a PNG or JPEG image (starts with \(head))")
        }
    }
}
