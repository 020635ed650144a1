import Foundation
import TensorCore

/// A NumPy `.npy` array (format 1.0-3.0): little-endian float32/float64 in C order, the kind
/// `numpy.save` writes for an embedding. Anything else is refused in one line naming the file.
public enum NPYFile {
    /// The largest array read (elements): embeddings are small; a huge file is a mistake.
    public static let maxElements = 1 << 24

    public static func load(_ url: URL) throws -> Tensor {
        let data = try RegularFile.read(url, limit: 16 + 65_536 + maxElements * 8)
        func fail(_ message: String) -> FormatError { FormatError(url, .invalidInput, message) }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // \x93NUMPY
        guard data.count >= 10, Array(data.prefix(6)) == magic else { throw FormatError(url, .wrongMagic, "not a .npy file (no \\x93NUMPY magic)") }
        let major = data[data.startIndex + 6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(data[data.startIndex + 8]) | Int(data[data.startIndex + 9]) << 8
            headerStart = 10
        case 2, 3:
            guard data.count >= 12 else { throw FormatError(url, .truncated, "truncated .npy header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(data[data.startIndex + 8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw FormatError(url, .unsupported, ".npy format version \(major) (1, 2 or 3 are read)")
        }
        guard headerLength <= 65_536, data.count >= headerStart + headerLength else {
            throw FormatError(url, .truncated, "truncated .npy header")
        }
        let headerBytes = data.subdata(in: (data.startIndex + headerStart)..<(data.startIndex + headerStart + headerLength))
        guard let header = String(data: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw fail(".npy header is not text")
        }
        func value(_ key: String) -> Substring? {
            guard let range = header.range(of: "'\(key)':") else { return nil }
            return header[range.upperBound...].drop(while: { $0 == " " })
        }
        guard let descr = value("descr"), let quote = descr.first, quote == "'" || quote == "\"",
              let end = descr.dropFirst().firstIndex(of: quote) else { throw fail(".npy header has no 'descr'") }
        let dtype = String(descr[descr.index(after: descr.startIndex)..<end])
        let width: Int
        switch dtype {
        case "<f4", "=f4": width = 4
        case "<f8", "=f8": width = 8
        default: throw FormatError(url, .unsupported, ".npy dtype '\(dtype.terminalSafe)': only little-endian float32 (<f4) or float64 (<f8) is read")
        }
        guard let fortran = value("fortran_order"), fortran.hasPrefix("False") else {
            throw FormatError(url, .unsupported, ".npy array in Fortran order: save it in C order")
        }
        guard let shapeText = value("shape"), shapeText.first == "(", let close = shapeText.firstIndex(of: ")") else {
            throw fail(".npy header has no 'shape'")
        }
        let parts = shapeText[shapeText.index(after: shapeText.startIndex)..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = parts.compactMap { Int($0) }
        guard shape.count == parts.count, shape.allSatisfy({ $0 >= 0 }) else { throw fail(".npy shape (\(parts.joined(separator: ", "))) is not a list of sizes") }
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= maxElements else { throw fail(".npy array larger than \(maxElements) elements") }
            count = product
        }
        let start = headerStart + headerLength
        guard data.count - start == count * width else {
            throw FormatError(url, .truncated, ".npy data is \(data.count - start) bytes; shape \(shape) of \(dtype) needs \(count * width)")
        }
        let tensor = Tensor(uninitializedShape: shape.isEmpty ? [1] : shape)
        data.withUnsafeBytes { raw in
            for i in 0..<count {
                let offset = start + i * width
                tensor.data[i] = width == 4
                    ? Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                    : Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
            }
        }
        return tensor
    }
}
