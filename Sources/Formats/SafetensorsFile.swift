import Foundation
import TensorCore

/// A safetensors file opened for reading.
///
/// The file is memory-mapped read-only and the header validated on open; tensors are
/// copied out (and converted to Float32) only when asked for, so opening a multi-GB
/// checkpoint to look at its names costs almost nothing.
public final class SafetensorsFile: @unchecked Sendable {
    public let url: URL
    /// The `__metadata__` string map (empty when the file has none).
    public let metadata: [String: String]
    /// Tensor names, sorted.
    public let tensorNames: [String]

    /// Keeps `bytes` alive: the file's mapping, or a copy of in-memory data.
    private let owner: AnyObject
    private let bytes: UnsafeRawBufferPointer
    private let header: SafetensorsHeader
    /// What errors name: the path, or the name given with in-memory data.
    private let fileName: String

    public init(url: URL) throws {
        self.url = url
        let mapping = try MappedFile(url: url)
        owner = mapping
        bytes = mapping.bytes
        fileName = url.path
        header = try SafetensorsHeader(bytes: mapping.bytes, file: url.path)
        metadata = header.metadata
        tensorNames = header.tensors.keys.sorted()
    }

    /// Safetensors bytes held in memory (copied), checked exactly as a file is; `name`
    /// stands for the file in errors.
    public init(data: Data, name: String = "<memory>") throws {
        url = URL(fileURLWithPath: name)
        let copy = OwnedBytes(data)
        owner = copy
        bytes = copy.bytes
        fileName = name
        header = try SafetensorsHeader(bytes: copy.bytes, file: name)
        metadata = header.metadata
        tensorNames = header.tensors.keys.sorted()
    }

    public func contains(_ name: String) -> Bool {
        header.tensors[name] != nil
    }

    /// Dtype, shape and byte range of a tensor.
    public func info(_ name: String) throws -> SafetensorsTensorInfo {
        guard let info = header.tensors[name] else {
            throw FormatError(file: fileName, problem: .missingTensor, message: "no tensor named '\(name.terminalSafe)' (the file has \(tensorNames.count))")
        }
        return info
    }

    /// The tensor as Float32, whatever its stored dtype.
    public func tensor(_ name: String) throws -> Tensor {
        let info = try info(name)
        let result = Tensor(uninitializedShape: info.shape)
        let start = header.dataStart + info.byteRange.lowerBound
        let source = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + info.byteRange.count)])
        Self.convert(source, dtype: info.dtype, count: info.elementCount, into: result.data)
        return result
    }

    /// The tensor kept in half precision (see `LayerWeight`) when it is stored as F16, else nil:
    /// read in place from the file's mapping when aligned (the weight keeps the mapping alive;
    /// copying would hold the file's pages and the copy at once while loading), else copied.
    public func halfPrecisionWeight(_ name: String) throws -> LayerWeight? {
        let info = try info(name)
        guard info.dtype == .f16 else { return nil }
        let start = header.dataStart + info.byteRange.lowerBound
        let range = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + info.byteRange.count)])
        if owner is MappedFile, let mapped = LayerWeight(mappedHalfBits: range, shape: info.shape, owner: owner) {
            return mapped
        }
        return LayerWeight(halfBits: range, shape: info.shape)
    }

    /// Decodes `count` little-endian elements of `dtype` (unaligned: offsets need not be
    /// multiples of the element size) into Float32.
    static func convert(_ source: UnsafeRawBufferPointer, dtype: SafetensorsDType, count: Int,
                        into destination: UnsafeMutablePointer<Float>) {
        guard count > 0, let base = source.baseAddress else { return }
        precondition(source.count == count * dtype.byteSize, "byte range does not match the element count")
        func each<Raw: FixedWidthInteger>(_: Raw.Type, _ transform: (Raw) -> Float) {
            for index in 0..<count {
                let raw = Raw(littleEndian: base.loadUnaligned(fromByteOffset: index * MemoryLayout<Raw>.size, as: Raw.self))
                destination[index] = transform(raw)
            }
        }
        switch dtype {
        case .f32:
            #if _endian(little)
            UnsafeMutableRawPointer(destination).copyMemory(from: base, byteCount: count * 4)
            #else
            each(UInt32.self) { Float(bitPattern: $0) }
            #endif
        case .f16: each(UInt16.self) { HalfPrecision.float(fromF16: $0) }
        case .bf16: each(UInt16.self) { HalfPrecision.float(fromBF16: $0) }
        case .f64: each(UInt64.self) { Float(Double(bitPattern: $0)) }
        case .f8e4m3: each(UInt8.self) { HalfPrecision.float(fromF8E4M3: $0) }
        case .f8e5m2: each(UInt8.self) { HalfPrecision.float(fromF8E5M2: $0) }
        case .i64: each(Int64.self) { Float($0) }
        case .i32: each(Int32.self) { Float($0) }
        case .i16: each(Int16.self) { Float($0) }
        case .i8: each(Int8.self) { Float($0) }
        case .u64: each(UInt64.self) { Float($0) }
        case .u32: each(UInt32.self) { Float($0) }
        case .u16: each(UInt16.self) { Float($0) }
        case .u8: each(UInt8.self) { Float($0) }
        case .bool: each(UInt8.self) { $0 == 0 ? 0 : 1 }
        }
    }
}

/// A private copy of some bytes, freed with the object.
private final class OwnedBytes {
    let bytes: UnsafeRawBufferPointer
    private let storage: UnsafeMutableRawPointer

    init(_ data: Data) {
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: 16)
        data.copyBytes(to: storage.assumingMemoryBound(to: UInt8.self), count: data.count)
        bytes = UnsafeRawBufferPointer(start: storage, count: data.count)
    }

    deinit {
        storage.deallocate()
    }
}
