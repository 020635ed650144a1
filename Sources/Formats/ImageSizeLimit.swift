import Foundation

/// The largest picture the decoders accept.
///
/// Checked on the dimensions in the file header before any pixel memory is allocated, so a
/// tiny file that claims to be 100000x100000 fails at once instead of exhausting memory.
public enum ImageSizeLimit {
    /// 64 megapixels: far above anything the models take, below what breaks a laptop.
    public static let defaultMaxPixels = 64_000_000

    static func error(width: Int, height: Int, maxPixels: Int, file: String) -> FormatError {
        if width == 0 || height == 0 {
            return FormatError(file: file, problem: .imageTooLarge, message: "image has no pixels (\(width)x\(height))")
        }
        let megapixels = Double(width) * Double(height) / 1_000_000
        let limit = Double(maxPixels) / 1_000_000
        return FormatError(file: file, problem: .imageTooLarge,
                           message: "image is \(width)x\(height) (\(String(format: "%.1f", megapixels)) megapixels), "
                               + "over the \(String(format: "%g", limit)) megapixel limit")
    }
}
