@testable import TensorCore
import XCTest

/// Freed large tensors are reused inside `reusingFreedBuffers` only, within its capacity, and
/// all given back when the scope ends.
final class LargeBlockCacheTests: XCTestCase {
    let large = 2 << 20  // floats: 8 MiB, above the 4 MiB floor

    func address(of tensor: Tensor) -> UInt { UInt(bitPattern: tensor.data) }

    func testReusedInsideTheScopeOnly() {
        let cache = LargeBlockCache.shared
        var first: UInt = 0
        LargeBlockCache.reusingFreedBuffers(capacity: 64 << 20) {
            do { first = address(of: Tensor(shape: [large], repeating: 1)) }
            XCTAssertEqual(cache.heldBytes, large * 4, "the freed tensor is kept")
            let second = Tensor(shape: [large], repeating: 2)
            XCTAssertEqual(address(of: second), first, "the same size reuses its block")
            XCTAssertEqual(cache.heldBytes, 0)
            XCTAssertEqual(second.scalars[large - 1], 2)
            do { _ = Tensor(shape: [large + 16], repeating: 1) }
            let other = Tensor(shape: [large], repeating: 3)
            XCTAssertNotEqual(address(of: other), first, "only an exact size is reused (the block is in use)")
            withExtendedLifetime(second) {}
        }
        XCTAssertEqual(cache.heldBytes, 0, "the scope's end frees every block")
        do { _ = Tensor(shape: [large], repeating: 1) }
        XCTAssertEqual(cache.heldBytes, 0, "nothing is kept outside a scope")
    }

    func testCapacityEvictsTheOldestAndSmallBlocksAreNotKept() {
        let cache = LargeBlockCache.shared
        LargeBlockCache.reusingFreedBuffers(capacity: 20 << 20) {
            do { _ = Tensor(shape: [16], repeating: 1) }
            XCTAssertEqual(cache.heldBytes, 0, "small tensors stay with the heap")
            do { _ = Tensor(shape: [large], repeating: 1) }
            do { _ = Tensor(shape: [large + 1024], repeating: 1) }
            XCTAssertEqual(cache.heldBytes, (2 * large + 1024) * 4)
            do { _ = Tensor(shape: [large + 2048], repeating: 1) }
            XCTAssertEqual(cache.heldBytes, (2 * large + 3072) * 4, "the oldest went to make room")
            do { _ = Tensor(shape: [6 << 20], repeating: 1) }
            XCTAssertEqual(cache.heldBytes, (2 * large + 3072) * 4, "a block larger than the capacity is freed")
        }
        XCTAssertEqual(cache.heldBytes, 0)
    }
}
