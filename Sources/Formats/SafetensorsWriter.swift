import Foundation
import TensorCore

/// Writes tensors in the safetensors format.
///
/// Tensors are laid out in name order and the header is padded with spaces to a multiple
/// of 8 bytes, as the reference implementation does, so the data section is aligned.
/// The file appears atomically (see `AtomicFileWriter`).
public enum SafetensorsWriter {
    /// Elements converted per write when storing F16/BF16, to bound the scratch memory.
    private static let chunkElements = 1 << 16

    /// Writes `tensors` (all stored as `dtype`: F32, F16 or BF16) and `metadata` to `url`.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:],
                             dtype: SafetensorsDType = .f32, to url: URL, overwrite: Bool = false) throws {
        guard dtype.isWritable else {
            throw FormatError(url, .unsupported, "cannot write dtype \(dtype.rawValue); use F32, F16 or BF16")
        }
        if let reserved = tensors.keys.first(where: { $0 == "__metadata__" || $0.isEmpty }) {
            throw FormatError(url, .invalidInput, "'\(reserved)' cannot be a tensor name")
        }
        let names = tensors.keys.sorted()
        let header = headerBytes(names: names, tensors: tensors, metadata: metadata, dtype: dtype)
        try AtomicFileWriter.write(to: url, overwrite: overwrite) { sink in
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try sink.write($0) }
            try sink.write(header)
            for name in names {
                try writeData(of: tensors[name]!, as: dtype, to: sink)
            }
        }
    }

    /// The JSON header with its trailing padding, keys in sorted order.
    static func headerBytes(names: [String], tensors: [String: Tensor], metadata: [String: String],
                            dtype: SafetensorsDType) -> [UInt8] {
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            let tensor = tensors[name]!
            let end = offset + tensor.count * dtype.byteSize
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var bytes = Array("{\(entries.joined(separator: ","))}".utf8)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8))
        return bytes
    }

    private static func writeData(of tensor: Tensor, as dtype: SafetensorsDType, to sink: FileSink) throws {
        if dtype == .f32 {
            #if _endian(little)
            try sink.write(UnsafeRawBufferPointer(start: tensor.data, count: tensor.count * 4))
            return
            #endif
        }
        var scratch = [UInt8](repeating: 0, count: min(tensor.count, chunkElements) * dtype.byteSize)
        var start = 0
        while start < tensor.count {
            let count = min(chunkElements, tensor.count - start)
            scratch.withUnsafeMutableBytes { raw in
                for index in 0..<count {
                    let value = tensor.data[start + index]
                    switch dtype {
                    case .f16:
                        raw.storeBytes(of: HalfPrecision.f16Bits(from: value).littleEndian, toByteOffset: index * 2, as: UInt16.self)
                    case .bf16:
                        raw.storeBytes(of: HalfPrecision.bf16Bits(from: value).littleEndian, toByteOffset: index * 2, as: UInt16.self)
                    default:
                        raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: index * 4, as: UInt32.self)
                    }
                }
            }
            try scratch.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<(count * dtype.byteSize)])) }
            start += count
        }
    }

    /// A JSON string literal; escapes only what JSON requires.
    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
