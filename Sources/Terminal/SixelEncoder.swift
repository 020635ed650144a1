import CSixel
import Formats

/// Encodes an image as a sixel escape sequence through libsixel (for terminals
/// that answer DA1 with attribute 4). The UI writes the result at a cursor position.
public enum SixelEncoder {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Collects libsixel's output chunks.
    private final class Sink {
        var bytes: [UInt8] = []
    }

    public static func encode(_ image: RGBImage, colors: Int = 256) throws -> String {
        guard image.width > 0, image.height > 0 else { throw Failure(description: "sixel: empty image") }
        let sink = Sink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        var output: OpaquePointer?
        let write: sixel_write_function = { data, size, priv in
            guard let data, let priv else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(priv).takeUnretainedValue()
            data.withMemoryRebound(to: UInt8.self, capacity: Int(size)) {
                sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: Int(size)))
            }
            return size
        }
        guard sixel_output_new(&output, write, unmanaged.toOpaque(), nil) == SIXEL_OK, let output else {
            throw Failure(description: "sixel: could not create an output context")
        }
        defer { sixel_output_unref(output) }
        var dither: OpaquePointer?
        guard sixel_dither_new(&dither, Int32(colors), nil) == SIXEL_OK, let dither else {
            throw Failure(description: "sixel: could not create a palette for \(colors) colours")
        }
        defer { sixel_dither_unref(dither) }
        var pixels = image.flattened().pixels
        let status: SIXELSTATUS = pixels.withUnsafeMutableBufferPointer { buffer in
            let initialised = sixel_dither_initialize(dither, buffer.baseAddress, Int32(image.width), Int32(image.height),
                                                      SIXEL_PIXELFORMAT_RGB888, SIXEL_LARGE_AUTO, SIXEL_REP_AUTO,
                                                      SIXEL_QUALITY_AUTO)
            guard initialised == SIXEL_OK else { return initialised }
            return sixel_encode(buffer.baseAddress, Int32(image.width), Int32(image.height), 3, dither, output)
        }
        guard status == SIXEL_OK else { throw Failure(description: "sixel: encoding failed (status \(status))") }
        return String(decoding: sink.bytes, as: UTF8.self)
    }
}
