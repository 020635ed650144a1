import Formats
import TensorCore
import XCTest

/// Half-resident layer weights (`LayerWeight`) widen exactly: every one of the 65,536 half
/// bit patterns gives the Float32 that Formats' reference conversion gives.
final class HalfResidentWeightTests: XCTestCase {
    func testEveryHalfPatternWidensExactly() {
        let patterns = (0...UInt16.max).map { $0 }
        let weight = patterns.withUnsafeBytes { LayerWeight(halfBits: $0, shape: [256, 256]) }
        XCTAssertTrue(weight.isHalfPrecision)
        XCTAssertEqual(weight.residentBytes, 2 * 65_536)
        let widened = weight.float32()
        let viaScratch = weight.withFloat32 { $0.scalars }
        for (index, bits) in patterns.enumerated() {
            let expected = HalfPrecision.float(fromF16: bits)
            if expected.isNaN {
                // F16C quiets a signalling NaN; weights never hold one, and NaN stays NaN.
                XCTAssertTrue(widened.data[index].isNaN && viaScratch[index].isNaN, "pattern \(bits)")
            } else {
                XCTAssertEqual(widened.data[index].bitPattern, expected.bitPattern, "pattern \(bits)")
                XCTAssertEqual(viaScratch[index].bitPattern, expected.bitPattern, "pattern \(bits)")
            }
        }
    }

    /// Odd lengths reach the scalar tail after the 32- and 8-wide loops; the scratch buffer is
    /// reused by the next product and may be taken from several threads at once.
    func testTailsAndConcurrentProducts() {
        for count in [1, 7, 8, 9, 31, 33, 1_000] {
            let bits = (0..<count).map { HalfPrecision.f16Bits(from: Float($0) * 0.25 - 3) }
            let weight = bits.withUnsafeBytes { LayerWeight(halfBits: $0, shape: [count]) }
            XCTAssertEqual(weight.float32().scalars, (0..<count).map { Float($0) * 0.25 - 3 }, "count \(count)")
        }
        let weights = (0..<8).map { seed in
            (0..<4_096).map { HalfPrecision.f16Bits(from: Float(($0 * 7 + seed) % 97) / 8) }
        }.map { bits in bits.withUnsafeBytes { LayerWeight(halfBits: $0, shape: [64, 64]) } }
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: 64)
        defer { sums.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 64) { index in
            sums[index] = weights[index % 8].withFloat32 { tensor in tensor.scalars.reduce(0, +) }
        }
        for index in 0..<64 {
            XCTAssertEqual(sums[index], weights[index % 8].float32().scalars.reduce(0, +), "product \(index)")
        }
    }

    /// In-place half weights need 2-byte alignment; an odd address is declined (then copied).
    func testMappedWeightsNeedAlignment() {
        let bytes: [UInt8] = [0, 0x00, 0x3C, 0x00, 0x40]  // 1.0 and 2.0 at offset 1 (odd), little-endian
        bytes.withUnsafeBytes { raw in
            let owner = NSObject()
            XCTAssertNil(LayerWeight(mappedHalfBits: UnsafeRawBufferPointer(rebasing: raw[1..<5]), shape: [2], owner: owner))
            let copied = LayerWeight(halfBits: UnsafeRawBufferPointer(rebasing: raw[1..<5]), shape: [2])
            XCTAssertEqual(copied.float32().scalars, [1, 2])
            XCTAssertFalse(copied.isMapped)
        }
        let aligned: [UInt16] = [0x3C00, 0x4000]
        aligned.withUnsafeBytes { raw in
            let mapped = LayerWeight(mappedHalfBits: raw, shape: [2], owner: NSObject())
            XCTAssertEqual(mapped?.float32().scalars, [1, 2])
            XCTAssertEqual(mapped?.isMapped, true)
        }
    }
}
