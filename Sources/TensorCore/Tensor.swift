/// A contiguous, row-major Float32 tensor.
///
/// Value-like: every op returns a new tensor and leaves its inputs alone, so
/// sharing `storage` between copies is safe. In-place helpers exist only where
/// a caller owns a freshly made tensor (`withMutableData` on a unique buffer).
public struct Tensor: @unchecked Sendable, CustomStringConvertible {
    public let shape: [Int]
    public let storage: TensorStorage

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    public var data: UnsafeMutablePointer<Float> { storage.pointer }

    /// Uninitialised tensor of `shape`; the caller must write every element.
    public init(uninitializedShape shape: [Int]) {
        Tensor.checkShape(shape)
        self.shape = shape
        storage = TensorStorage(uninitializedCount: shape.reduce(1, *))
    }

    public init(shape: [Int], repeating value: Float = 0) {
        Tensor.checkShape(shape)
        self.shape = shape
        storage = TensorStorage(repeating: value, count: shape.reduce(1, *))
    }

    public init(shape: [Int], values: [Float]) {
        Tensor.checkShape(shape)
        precondition(shape.reduce(1, *) == values.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        self.shape = shape
        storage = TensorStorage(uninitializedCount: values.count)
        values.withUnsafeBufferPointer { storage.pointer.initialize(from: $0.baseAddress!, count: values.count) }
    }

    public init(shape: [Int], storage: TensorStorage) {
        Tensor.checkShape(shape)
        precondition(shape.reduce(1, *) == storage.count, "shape \(shape) does not match \(storage.count) elements")
        self.shape = shape
        self.storage = storage
    }

    public static func scalar(_ value: Float) -> Tensor { Tensor(shape: [], values: [value]) }

    private static func checkShape(_ shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
    }

    public var scalars: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public subscript(flat index: Int) -> Float {
        get { data[index] }
    }

    /// Element at a full multi-index (tests and small lookups; not for hot loops).
    public subscript(_ index: Int...) -> Float {
        precondition(index.count == rank, "index \(index) has rank \(index.count), tensor has rank \(rank)")
        var offset = 0
        for (i, dim) in zip(index, shape) {
            precondition(i >= 0 && i < dim, "index \(index) out of bounds for shape \(shape)")
            offset = offset * dim + i
        }
        return data[offset]
    }

    /// Same elements, new shape (no copy). One dimension may be -1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            resolved[inferred] = count / known
        }
        precondition(resolved.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: resolved, storage: storage)
    }

    /// A deep copy with its own storage.
    public func copy() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        out.data.update(from: data, count: count)
        return out
    }

    /// Row-major strides of `shape`.
    public static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = running
            running *= shape[i]
        }
        return strides
    }

    public var description: String {
        let preview = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(preview)\(count > 8 ? ", ..." : "")])"
    }
}

import Foundation
