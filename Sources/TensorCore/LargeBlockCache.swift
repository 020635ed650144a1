import Synchronization

/// Freed tensor buffers of 4 MiB and more, kept for the next tensor of the same size, during
/// `reusingFreedBuffers` only. Each large tensor is its own mapping (see `AllocatorPolicy`), so a
/// fresh one faults in every page: in a UNet pass, where the same shapes recur every block and
/// every step, that was about a tenth of the time. Bounded (the oldest blocks go first) and
/// emptied when the last scope ends, so the resident peak of that phase grows by at most the
/// capacity, and other phases (the VAE decode, which has the generation's peak) not at all.
public final class LargeBlockCache: Sendable {
    static let shared = LargeBlockCache()

    /// The allocator's mmap threshold: smaller blocks come from the heap, which reuses them.
    static let minimumBytes = 4 << 20

    private struct State {
        var blocks: [(bytes: Int, address: UInt)] = []  // oldest first
        var bytes = 0
        var capacity = 0
        var scopes = 0
    }

    private let state = Mutex(State())

    /// Runs `body` with freed large buffers kept for reuse, up to `capacity` bytes (scopes may
    /// nest or overlap; the largest capacity holds, and the last one to end frees the blocks).
    public static func reusingFreedBuffers<Result>(capacity: Int = 512 << 20, _ body: () throws -> Result) rethrows -> Result {
        shared.state.withLock { state in
            state.scopes += 1
            state.capacity = max(state.capacity, capacity)
        }
        defer {
            let last = shared.state.withLock { state in
                state.scopes -= 1
                if state.scopes == 0 { state.capacity = 0 }
                return state.scopes == 0
            }
            if last { shared.releaseAll() }
        }
        return try body()
    }

    /// A cached block of exactly `bytes`, or nil.
    func take(bytes: Int) -> UnsafeMutableRawPointer? {
        guard bytes >= Self.minimumBytes else { return nil }
        let address: UInt? = state.withLock { state in
            guard let index = state.blocks.lastIndex(where: { $0.bytes == bytes }) else { return nil }
            state.bytes -= bytes
            return state.blocks.remove(at: index).address
        }
        return address.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
    }

    /// Keeps the block for reuse, or frees it (small, or larger than the whole cache).
    func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        guard bytes >= Self.minimumBytes else { pointer.deallocate(); return }
        let evicted: [UInt] = state.withLock { state in
            guard bytes <= state.capacity else { return [UInt(bitPattern: pointer)] }
            var evicted: [UInt] = []
            while state.bytes + bytes > state.capacity, !state.blocks.isEmpty {
                let oldest = state.blocks.removeFirst()
                state.bytes -= oldest.bytes
                evicted.append(oldest.address)
            }
            state.blocks.append((bytes, UInt(bitPattern: pointer)))
            state.bytes += bytes
            return evicted
        }
        for address in evicted { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }

    /// Frees every cached block.
    func releaseAll() {
        let addresses = state.withLock { state in
            defer { state.blocks.removeAll(); state.bytes = 0 }
            return state.blocks.map(\.address)
        }
        for address in addresses { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }

    /// Bytes held now (tests).
    var heldBytes: Int { state.withLock { $0.bytes } }
}
