import Foundation
import TensorCore
import TestSupport
import XCTest

/// With the policy applied, a 20 MiB tensor made after a 28 MiB one was freed still gets its own
/// mapping. glibc's default would have raised its threshold to 28 MiB on that free (it does for
/// freed mappings up to 32 MiB) and served the 20 MiB from the heap, which keeps freed memory
/// resident (about 0.5 GB more at an SD1.5 peak). The check runs in a fresh test process: in
/// the shared one, free chunks left by earlier tests could serve the 20 MiB either way.
final class AllocatorPolicyTests: XCTestCase {
    static let childVariable = "PHOTOVERSE_ALLOCATOR_CHECK"

    func testLargeTensorsStayInTheirOwnMappings() throws {
        if ProcessInfo.processInfo.environment[Self.childVariable] == "1" {
            AllocatorPolicy.apply()
            try XCTSkipIf(AllocatorPolicy.mappedBytes < 0, "not glibc")
            do { _ = Tensor(shape: [7 << 20], repeating: 1) }  // 28 MiB, freed at once
            let before = AllocatorPolicy.mappedBytes
            let tensor = Tensor(shape: [5 << 20], repeating: 1)  // 20 MiB
            XCTAssertGreaterThanOrEqual(AllocatorPolicy.mappedBytes - before, 20 << 20)
            withExtendedLifetime(tensor) {}
            return
        }
        // The test bundle runs this one test again in a new process.
        let child = try ChildTestProcess.run("TensorCoreTests.AllocatorPolicyTests/testLargeTensorsStayInTheirOwnMappings",
                                             environment: [Self.childVariable: "1"])
        XCTAssertTrue(child.passedOneTest, child.output)
    }
}
