import TensorCore
import XCTest

/// With the policy applied, a 4 MiB tensor made after an 8 MiB one was freed still gets its own
/// mapping (glibc's default would have raised its threshold to 8 MiB and served it from the
/// heap, which keeps freed memory resident: about 1 GB more at an SD1.5 peak).
final class AllocatorPolicyTests: XCTestCase {
    func testLargeTensorsStayInTheirOwnMappings() throws {
        AllocatorPolicy.apply()
        try XCTSkipIf(AllocatorPolicy.mappedBytes < 0, "not glibc")
        do { _ = Tensor(shape: [2 << 20], repeating: 1) }  // 8 MiB, freed at once
        let before = AllocatorPolicy.mappedBytes
        let tensor = Tensor(shape: [1 << 20], repeating: 1)  // 4 MiB
        XCTAssertGreaterThanOrEqual(AllocatorPolicy.mappedBytes - before, 4 << 20)
        withExtendedLifetime(tensor) {}
    }
}
