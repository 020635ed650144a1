/// Owned, 64-byte aligned Float32 memory behind a tensor.
///
/// A class so that tensors share storage cheaply; ops never mutate an input's
/// storage, they allocate a new one (see `Tensor`).
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// False for a view of memory someone else frees (a widened weight's scratch buffer).
    private let owned: Bool

    /// Uninitialised storage; callers fill every element.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "negative element count \(count)")
        self.count = count
        owned = true
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let raw = LargeBlockCache.shared.take(bytes: bytes) ?? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    public convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    /// A view of `count` floats at `pointer` that this storage never frees: valid only while
    /// the owner keeps that memory (see `LayerWeight.withFloat32`).
    public init(borrowing pointer: UnsafeMutablePointer<Float>, count: Int) {
        self.pointer = pointer
        self.count = count
        owned = false
    }

    deinit {
        if owned { LargeBlockCache.shared.give(UnsafeMutableRawPointer(pointer), bytes: max(count, 1) * MemoryLayout<Float>.stride) }
    }
}
