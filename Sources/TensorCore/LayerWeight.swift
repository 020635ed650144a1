import CKernels
import Dispatch

/// A layer's weight as its file stored it: Float32, or IEEE half precision kept at 2 bytes a
/// value and widened (exactly) into a scratch buffer for each product. Half-resident weights
/// are how an SD1.5 generation fits in 3 GiB: its UNet is 1.7 GB in half precision, 3.4 GB
/// widened. Widening is exact, so results do not depend on which kind a layer holds.
public final class LayerWeight: @unchecked Sendable {
    public let shape: [Int]
    public let count: Int
    private let full: Tensor?
    private let half: UnsafePointer<UInt16>?
    /// What keeps `half` alive when it points into someone else's memory (a mapped file);
    /// nil when this weight owns its copy.
    private let owner: AnyObject?

    public init(_ tensor: Tensor) {
        shape = tensor.shape
        count = tensor.count
        full = tensor
        half = nil
        owner = nil
    }

    /// Half-precision bit patterns read from `bytes` (little-endian, any alignment).
    public init(halfBits bytes: UnsafeRawBufferPointer, shape: [Int]) {
        let count = shape.reduce(1, *)
        precondition(bytes.count == 2 * count, "\(bytes.count) bytes for \(count) half values of shape \(shape)")
        self.shape = shape
        self.count = count
        full = nil
        let storage = UnsafeMutablePointer<UInt16>.allocate(capacity: max(count, 1))
        if count > 0 { UnsafeMutableRawPointer(storage).copyMemory(from: bytes.baseAddress!, byteCount: 2 * count) }
        #if _endian(big)
        for index in 0..<count { storage[index] = UInt16(littleEndian: storage[index]) }
        #endif
        half = UnsafePointer(storage)
        owner = nil
    }

    /// Half-precision values used where they lie (a memory-mapped weights file, kept alive by
    /// `owner`): no copy, and the pages are the file's, shared and reclaimable. Needs 2-byte
    /// alignment and a little-endian machine; `nil` otherwise (copy with `init(halfBits:)`).
    public init?(mappedHalfBits bytes: UnsafeRawBufferPointer, shape: [Int], owner: AnyObject) {
        let count = shape.reduce(1, *)
        precondition(bytes.count == 2 * count, "\(bytes.count) bytes for \(count) half values of shape \(shape)")
        #if _endian(big)
        return nil
        #else
        guard let base = bytes.baseAddress, Int(bitPattern: base) % 2 == 0 else { return nil }
        self.shape = shape
        self.count = count
        full = nil
        half = base.assumingMemoryBound(to: UInt16.self)
        self.owner = owner
        #endif
    }

    deinit {
        if owner == nil, let half { UnsafeMutablePointer(mutating: half).deallocate() }
    }

    public var isHalfPrecision: Bool { half != nil }
    /// Bytes this weight keeps resident.
    public var residentBytes: Int { half != nil ? 2 * count : 4 * count }
    /// Whether the values are read in place from a mapped file.
    public var isMapped: Bool { owner != nil }

    /// The weight as a Float32 tensor of its own (a copy for half-resident weights).
    public func float32() -> Tensor {
        if let full { return full }
        let out = Tensor(uninitializedShape: shape)
        pv_widen_f16(half!, out.data, count)
        return out
    }

    /// Row `row` of a [rows, width] weight (an embedding table) as Float32, into `destination`.
    public func copyRow(_ row: Int, into destination: UnsafeMutablePointer<Float>) {
        let width = shape.last ?? 1
        precondition(row >= 0 && row * width < count, "row \(row) outside a weight of shape \(shape)")
        if let full { destination.update(from: full.data + row * width, count: width); return }
        pv_widen_f16(half! + row * width, destination, width)
    }

    /// Runs `body` on the weight as Float32: the stored tensor, or the half values widened into
    /// a pooled scratch buffer that is reused by the next product (the tensor must not escape).
    public func withFloat32<Result>(_ body: (Tensor) throws -> Result) rethrows -> Result {
        if let full { return try body(full) }
        let buffer = ScratchPool.shared.take(count)
        defer { ScratchPool.shared.give(buffer) }
        pv_widen_f16(half!, buffer.pointer, count)
        return try body(Tensor(shape: shape, storage: TensorStorage(borrowing: buffer.pointer, count: count)))
    }
}

extension LayerWeight {
    /// Frees the pooled scratch buffers (widened weights, Winograd's transforms; the next product
    /// makes them again): for the end of a phase whose large layers the next phase does not use.
    public static func releaseScratch() { ScratchPool.shared.releaseFree() }
}
