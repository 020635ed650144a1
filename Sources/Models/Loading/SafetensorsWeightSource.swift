import Foundation
import Formats
import TensorCore

/// Weights from one or more safetensors files (mmapped; F32/F16/BF16 → Float32 on access).
public final class SafetensorsWeightSource: WeightSource {
    private let files: [SafetensorsFile]
    private let owner: [String: Int]
    private let shapes: [String: [Int]]
    /// Stored element type per tensor name ("F16", "F32", ...).
    public let dtypes: [String: String]

    public init(urls: [URL]) throws {
        files = try urls.map { try SafetensorsFile(url: $0) }
        var owner: [String: Int] = [:], shapes: [String: [Int]] = [:], dtypes: [String: String] = [:]
        for (index, file) in files.enumerated() {
            for name in file.tensorNames {
                let info = try file.info(name)
                if let first = owner[name] {
                    // Sharded weights name each tensor once; which copy is meant is unknowable.
                    throw FormatError(file: file.url.path, problem: .invalidHeader,
                                      message: "tensor '\(name.terminalSafe)' is also in \(files[first].url.lastPathComponent.terminalSafe); each tensor must be in one file only")
                }
                owner[name] = index
                shapes[name] = info.shape
                dtypes[name] = info.dtype.rawValue
            }
        }
        self.dtypes = dtypes
        self.owner = owner
        self.shapes = shapes
    }

    public convenience init(url: URL) throws { try self.init(urls: [url]) }

    /// Bytes of the tensors stored as F16 (those `halfPrecisionWeight` can keep half).
    public var halfPrecisionBytes: Int {
        dtypes.reduce(0) { sum, entry in
            entry.value == "F16" ? sum + 2 * (shapes[entry.key]?.reduce(1, *) ?? 0) : sum
        }
    }

    public var tensorNames: [String] { Array(owner.keys) }
    public func shape(of name: String) -> [Int]? { shapes[name] }
    public func tensor(named name: String) throws -> Tensor {
        guard let index = owner[name] else {
            throw FormatError(file: origin, problem: .missingTensor, message: "no tensor named '\(name.terminalSafe)'")
        }
        return try files[index].tensor(name)
    }
    public func halfPrecisionWeight(named name: String) throws -> LayerWeight? {
        guard let index = owner[name] else { return nil }
        return try files[index].halfPrecisionWeight(name)
    }
    public var origin: String { files.map(\.url.path).joined(separator: ", ") }
}
