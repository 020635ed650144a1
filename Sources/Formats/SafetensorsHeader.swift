import Foundation

/// Where one tensor lives in a safetensors file, as its header says.
public struct SafetensorsTensorInfo: Equatable, Sendable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Byte range relative to the start of the data section (after the header).
    public let byteRange: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
}

/// The parsed and validated header of a safetensors file.
///
/// Layout: 8-byte little-endian header length N, N bytes of JSON, then the data section.
/// Every check that keeps later reads inside the file happens here, so reading a tensor
/// afterwards cannot go out of bounds whatever the file contains.
struct SafetensorsHeader {
    /// The reference implementation's limit; a longer header is corruption, not a model.
    static let maxHeaderLength = 100_000_000

    let metadata: [String: String]
    let tensors: [String: SafetensorsTensorInfo]
    /// Offset of the data section from the start of the file.
    let dataStart: Int

    init(bytes: UnsafeRawBufferPointer, file: String) throws {
        func fail(_ problem: FormatError.Problem, _ message: String) -> FormatError {
            FormatError(file: file, problem: problem, message: message)
        }
        guard bytes.count >= 8 else {
            throw fail(.truncated, "truncated: \(bytes.count) bytes, too short for the 8-byte header length")
        }
        let declared = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        let available = bytes.count - 8
        let plausible = declared <= UInt64(available) && declared >= 2 && bytes[8] == UInt8(ascii: "{")
        if !plausible, bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || (bytes[0] == 0x80 && (2...5).contains(bytes[1])) {
            // A zip archive (torch.save) or a raw pickle: never unpickled, since loading one can run code.
            throw fail(.unsupported, "this is a PyTorch pickle checkpoint (.ckpt/.pt/.bin), not safetensors; "
                       + "PhotoVerse never unpickles files: convert it with training/convert_checkpoint.py")
        }
        guard declared <= UInt64(available) else {
            throw fail(.invalidHeader, "header length \(declared) runs past the end of the file (\(bytes.count) bytes): "
                       + "truncated, or not a safetensors file")
        }
        let headerLength = Int(declared)
        guard headerLength <= Self.maxHeaderLength else {
            throw fail(.invalidHeader, "header length \(headerLength) is over the \(Self.maxHeaderLength)-byte limit")
        }
        guard headerLength >= 2, bytes[8] == UInt8(ascii: "{") else {
            throw fail(.wrongMagic, "header does not start with '{': not a safetensors file")
        }
        dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart

        // The reference writer pads the header with trailing spaces, which JSON allows.
        let root: JSONValue
        do {
            root = try StrictJSON.parse(UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart]))
        } catch let failure as StrictJSON.Failure {
            if let key = failure.duplicateKey {
                if failure.path.isEmpty {
                    throw fail(.invalidHeader, key == "__metadata__" ? "header has two __metadata__ entries"
                               : "tensor '\(key.terminalSafe)' appears twice in the header; each name must be unique")
                }
                throw fail(.invalidHeader, "header key '\(StrictJSON.Failure.join(failure.path + [key]).terminalSafe)' appears twice")
            }
            throw fail(.invalidHeader, "header is not valid JSON: \(failure.message) at byte \(8 + failure.offset)")
        }
        guard let entries = root.objectValue else {
            throw fail(.invalidHeader, "header is not a JSON object")
        }

        var metadata: [String: String] = [:]
        var tensors: [String: SafetensorsTensorInfo] = [:]
        for (name, entry) in entries {
            if name == "__metadata__" {
                guard let map = entry.objectValue else {
                    throw fail(.invalidHeader, "__metadata__ is not an object of strings")
                }
                for (key, value) in map {
                    guard let text = value.stringValue else {
                        throw fail(.invalidHeader, "__metadata__ value for '\(key.terminalSafe)' is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            tensors[name] = try Self.tensorInfo(name: name, entry: entry, dataLength: dataLength, fail: fail)
        }
        try Self.checkNoOverlap(Array(tensors.values), fail: fail)
        self.metadata = metadata
        self.tensors = tensors
    }

    private static func tensorInfo(name: String, entry: JSONValue, dataLength: Int,
                                   fail: (FormatError.Problem, String) -> FormatError) throws -> SafetensorsTensorInfo {
        guard let fields = entry.objectValue else {
            throw fail(.invalidHeader, "tensor '\(name.terminalSafe)': header entry is not an object")
        }
        guard let dtypeName = fields["dtype"]?.stringValue else {
            throw fail(.invalidHeader, "tensor '\(name.terminalSafe)': missing dtype")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw fail(.unsupported, "tensor '\(name.terminalSafe)': unsupported dtype '\(dtypeName.terminalSafe)'")
        }
        guard let shape = fields["shape"]?.integerArray, shape.allSatisfy({ $0 >= 0 }) else {
            throw fail(.invalidHeader, "tensor '\(name.terminalSafe)': shape is not a list of non-negative integers")
        }
        guard let offsets = fields["data_offsets"]?.integerArray, offsets.count == 2,
              offsets[0] >= 0, offsets[0] <= offsets[1] else {
            throw fail(.invalidHeader, "tensor '\(name.terminalSafe)': data_offsets is not [begin, end] with 0 <= begin <= end")
        }
        // The product of the non-zero dimensions must fit too: code that multiplies a few
        // dimensions of an empty tensor (say [0, 2^40, 2^40]) must not overflow either.
        var needed = dtype.byteSize, nonZero = dtype.byteSize
        for dimension in shape {
            let (product, overflow) = nonZero.multipliedReportingOverflow(by: max(dimension, 1))
            guard !overflow, shape.count <= 64 else {
                throw fail(.invalidHeader, "tensor '\(name.terminalSafe)': shape \(shape.prefix(8)) is too large")
            }
            nonZero = product
            needed *= dimension
        }
        let range = offsets[0]..<offsets[1]
        guard range.count == needed else {
            throw fail(.invalidHeader, "tensor '\(name.terminalSafe)': data_offsets \(offsets) hold \(range.count) bytes "
                       + "but shape \(shape) of \(dtype.rawValue) needs \(needed)")
        }
        guard range.upperBound <= dataLength else {
            throw fail(.invalidHeader, "tensor '\(name.terminalSafe)': data_offsets \(offsets) run past the end of the "
                       + "data section (\(dataLength) bytes): truncated file or lying header")
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, byteRange: range)
    }

    private static func checkNoOverlap(_ infos: [SafetensorsTensorInfo],
                                       fail: (FormatError.Problem, String) -> FormatError) throws {
        let sorted = infos.filter { !$0.byteRange.isEmpty }
            .sorted { ($0.byteRange.lowerBound, $0.name) < ($1.byteRange.lowerBound, $1.name) }
        for (previous, next) in zip(sorted, sorted.dropFirst())
        where next.byteRange.lowerBound < previous.byteRange.upperBound {
            throw fail(.invalidHeader, "tensors '\(previous.name.terminalSafe)' \(describe(previous.byteRange)) and "
                       + "'\(next.name.terminalSafe)' \(describe(next.byteRange)) overlap")
        }
    }

    private static func describe(_ range: Range<Int>) -> String {
        "[\(range.lowerBound), \(range.upperBound)]"
    }
}
