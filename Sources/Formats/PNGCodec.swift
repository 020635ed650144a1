import CImageCodecs
import Foundation

/// PNG reading and writing through libpng.
///
/// Reading accepts every PNG colour type and depth and gives 8-bit RGB, with an alpha
/// plane when the file has alpha (or tRNS). Writing produces 8-bit RGB (RGBA if the
/// image has alpha) with text chunks, which is how a run's parameters travel with it.
public enum PNGCodec {
    /// Decodes PNG bytes. `file` names the source in errors.
    public static func decode(_ data: Data, file: String = "<memory>",
                              maxPixels: Int = ImageSizeLimit.defaultMaxPixels) throws -> RGBImage {
        try data.withUnsafeBytes { try decode($0, file: file, maxPixels: maxPixels) }
    }

    public static func read(_ url: URL, maxPixels: Int = ImageSizeLimit.defaultMaxPixels) throws -> RGBImage {
        let mapping = try MappedFile(url: url)
        return try decode(mapping.bytes, file: url.path, maxPixels: maxPixels)
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, file: String, maxPixels: Int) throws -> RGBImage {
        try checkSignature(bytes, file: file)
        return try CodecBridge.decode(bytes, file: file, format: "PNG", maxPixels: maxPixels, decoder: pv_png_decode).image
    }

    /// The text chunks (tEXt, zTXt, iTXt) of a PNG file, keyed by keyword; where a keyword
    /// repeats, the first one wins.
    public static func readText(_ url: URL, maxPixels: Int = ImageSizeLimit.defaultMaxPixels) throws -> [String: String] {
        let mapping = try MappedFile(url: url)
        return try text(mapping.bytes, file: url.path, maxPixels: maxPixels)
    }

    public static func text(_ data: Data, file: String = "<memory>",
                            maxPixels: Int = ImageSizeLimit.defaultMaxPixels) throws -> [String: String] {
        try data.withUnsafeBytes { try text($0, file: file, maxPixels: maxPixels) }
    }

    static func text(_ bytes: UnsafeRawBufferPointer, file: String, maxPixels: Int) throws -> [String: String] {
        try checkSignature(bytes, file: file)
        var list = pv_text_list()
        defer { pv_text_list_free(&list) }
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let (status, message) = CodecBridge.call { error, capacity in
            pv_png_read_text(base, bytes.count, UInt64(max(0, maxPixels)), &list, error, capacity)
        }
        if status != Int32(PV_CODEC_OK.rawValue) {
            // The C reader does not report the size it refused; read the IHDR for the message.
            let (width, height) = headerSize(bytes)
            throw CodecBridge.error(status: status, message: message, file: file, format: "PNG",
                                    width: width, height: height, maxPixels: maxPixels)!
        }
        var result: [String: String] = [:]
        for index in 0..<list.count {
            guard let entry = list.entries?[index], let keyPointer = entry.key, let valuePointer = entry.value else { continue }
            let key = latin1String(keyPointer)
            let value = entry.utf8 != 0 ? String(cString: valuePointer) : latin1String(valuePointer)
            if result[key] == nil { result[key] = value }
        }
        return result
    }

    /// Encodes 8-bit RGB (RGBA when the image has alpha) with `text` as tEXt chunks, or
    /// iTXt (UTF-8) for values outside Latin-1. Keys are written in sorted order.
    public static func encode(_ image: RGBImage, text: [String: String] = [:], file: String = "<memory>") throws -> Data {
        let keys = text.keys.sorted()
        for key in keys { try TextEntry.validate(key: key, value: text[key]!, file: file) }
        let entries = keys.map { TextEntry(key: $0, value: text[$0]!) }
        let channels: UInt32 = image.alpha == nil ? 3 : 4
        let bytes = image.alpha == nil ? image.pixels : image.rgbaBytes
        var buffer = pv_buffer()
        defer { pv_buffer_free(&buffer) }

        var inputs = entries.map { pv_text_input(key: $0.key, value: $0.value, utf8: $0.utf8 ? 1 : 0) }
        defer { entries.forEach { $0.release() } }
        let (status, message) = CodecBridge.call { error, capacity in
            bytes.withUnsafeBufferPointer { pixels in
                inputs.withUnsafeMutableBufferPointer { textInputs in
                    pv_png_encode(pixels.baseAddress, UInt32(image.width), UInt32(image.height), channels,
                                  textInputs.baseAddress, textInputs.count, &buffer, error, capacity)
                }
            }
        }
        guard status == Int32(PV_CODEC_OK.rawValue) else {
            throw FormatError(file: file, problem: .writeFailed, message: "cannot encode PNG: \(message)")
        }
        return Data(bytes: buffer.bytes, count: buffer.size)
    }

    /// Writes a PNG atomically; an existing file is only replaced with `overwrite: true`.
    public static func write(_ image: RGBImage, text: [String: String] = [:], to url: URL,
                             overwrite: Bool = false) throws {
        let data = try encode(image, text: text, file: url.path)
        try AtomicFileWriter.write(data, to: url, overwrite: overwrite)
    }

    /// Writes to the first free `<prefix>-NNNN.png` in `directory` and returns its URL.
    @discardableResult
    public static func writeNumbered(_ image: RGBImage, text: [String: String] = [:], in directory: URL,
                                     prefix: String) throws -> URL {
        let data = try encode(image, text: text, file: directory.path)
        return try AtomicFileWriter.writeNumbered(in: directory, prefix: prefix, pathExtension: "png") { try $0.write(data) }
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    private static func checkSignature(_ bytes: UnsafeRawBufferPointer, file: String) throws {
        guard bytes.count >= 8, bytes.prefix(8).elementsEqual(signature) else {
            throw FormatError(file: file, problem: .wrongMagic, message: "not a PNG file (no PNG signature)")
        }
    }

    /// IHDR width and height, or (0, 0) when the header is not there.
    private static func headerSize(_ bytes: UnsafeRawBufferPointer) -> (Int, Int) {
        guard bytes.count >= 24 else { return (0, 0) }
        func bigEndian(_ offset: Int) -> Int {
            Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        }
        return (bigEndian(16), bigEndian(20))
    }

    private static func latin1String(_ pointer: UnsafePointer<CChar>) -> String {
        var scalars = String.UnicodeScalarView()
        var cursor = UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self)
        while cursor.pointee != 0 {
            scalars.append(Unicode.Scalar(cursor.pointee))
            cursor += 1
        }
        return String(scalars)
    }

    /// One text chunk to write, held in C strings (freed by `release`).
    private struct TextEntry {
        let key: UnsafeMutablePointer<CChar>
        let value: UnsafeMutablePointer<CChar>
        let utf8: Bool

        static func validate(key: String, value: String, file: String) throws {
            // PNG keywords: 1-79 printable Latin-1 characters, no leading, trailing or double spaces.
            let keyScalars = key.unicodeScalars
            guard (1...79).contains(keyScalars.count),
                  keyScalars.allSatisfy({ (32...126).contains($0.value) || (161...255).contains($0.value) }),
                  !key.hasPrefix(" "), !key.hasSuffix(" "), !key.contains("  ") else {
                throw FormatError(file: file, problem: .invalidInput,
                                  message: "'\(key)' is not a valid PNG text keyword (1-79 Latin-1 characters, no edge or double spaces)")
            }
            guard !value.unicodeScalars.contains("\0") else {
                throw FormatError(file: file, problem: .invalidInput, message: "the text for '\(key)' contains a NUL character")
            }
        }

        /// Latin-1 values go in tEXt as Latin-1 bytes; anything else in iTXt as UTF-8.
        init(key: String, value: String) {
            let keyScalars = key.unicodeScalars
            utf8 = !value.unicodeScalars.allSatisfy { $0.value <= 0xFF }
            self.key = Self.cString(keyScalars.map { UInt8($0.value) })
            self.value = Self.cString(utf8 ? Array(value.utf8) : value.unicodeScalars.map { UInt8($0.value) })
        }

        private static func cString(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar> {
            let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (index, byte) in bytes.enumerated() { pointer[index] = CChar(bitPattern: byte) }
            pointer[bytes.count] = 0
            return pointer
        }

        func release() {
            key.deallocate()
            value.deallocate()
        }
    }
}
