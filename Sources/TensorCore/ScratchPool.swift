import Dispatch

/// Float scratch buffers reused across layers (widened half weights, Winograd's transformed
/// weights, inputs and products): as many as are in use at once, each as large as the largest
/// request it has served, so steady-state runs allocate nothing and fault no pages.
final class ScratchPool: @unchecked Sendable {
    static let shared = ScratchPool()

    final class Buffer {
        let pointer: UnsafeMutablePointer<Float>
        let capacity: Int
        init(capacity: Int) {
            self.capacity = capacity
            pointer = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1) * 4, alignment: 64)
                .bindMemory(to: Float.self, capacity: max(capacity, 1))
        }
        deinit { UnsafeMutableRawPointer(pointer).deallocate() }
    }

    private let lock = DispatchSemaphore(value: 1)
    private var free: [Buffer] = []

    func take(_ count: Int) -> Buffer {
        lock.wait()
        defer { lock.signal() }
        // The smallest free buffer that fits, so a small request leaves the large ones.
        if let index = free.indices.filter({ free[$0].capacity >= count }).min(by: { free[$0].capacity < free[$1].capacity }) {
            return free.remove(at: index)
        }
        // None fits: the largest is replaced by one of the size needed (the pool does not grow).
        if let index = free.indices.max(by: { free[$0].capacity < free[$1].capacity }) { free.remove(at: index) }
        return Buffer(capacity: count)
    }

    func releaseFree() {
        lock.wait()
        free.removeAll()
        lock.signal()
    }

    func give(_ buffer: Buffer) {
        lock.wait()
        free.append(buffer)
        lock.signal()
    }
}
