import XCTest
@testable import Formats

final class HalfPrecisionTests: XCTestCase {
    func testKnownF16BitPatterns() {
        XCTAssertEqual(HalfPrecision.float(fromF16: 0x3C00), 1)
        XCTAssertEqual(HalfPrecision.float(fromF16: 0xC000), -2)
        XCTAssertEqual(HalfPrecision.float(fromF16: 0x7BFF), 65504)
        XCTAssertEqual(HalfPrecision.float(fromF16: 0x0001), 0x1p-24)             // smallest subnormal, 5.96e-8
        XCTAssertEqual(HalfPrecision.float(fromF16: 0x0001), 5.96e-8, accuracy: 1e-10)
        XCTAssertEqual(HalfPrecision.float(fromF16: 0x03FF), 0x1.FF8p-15)          // largest subnormal
        XCTAssertEqual(HalfPrecision.float(fromF16: 0x0400), 0x1p-14)              // smallest normal
        XCTAssertEqual(HalfPrecision.float(fromF16: 0x3555), 0.333251953125)
        XCTAssertEqual(HalfPrecision.float(fromF16: 0x7C00), .infinity)
        XCTAssertEqual(HalfPrecision.float(fromF16: 0xFC00), -.infinity)
        XCTAssertTrue(HalfPrecision.float(fromF16: 0x7E00).isNaN)
        XCTAssertTrue(HalfPrecision.float(fromF16: 0xFC01).isNaN)
        let negativeZero = HalfPrecision.float(fromF16: 0x8000)
        XCTAssertEqual(negativeZero, 0)
        XCTAssertEqual(negativeZero.sign, .minus)
    }

    func testKnownBF16AndFloat8Patterns() {
        XCTAssertEqual(HalfPrecision.float(fromBF16: 0x3F80), 1)
        XCTAssertEqual(HalfPrecision.float(fromBF16: 0xC049), -3.140625)
        XCTAssertEqual(HalfPrecision.float(fromBF16: 0xFF80), -.infinity)
        XCTAssertEqual(HalfPrecision.bf16Bits(from: 1), 0x3F80)
        XCTAssertEqual(HalfPrecision.bf16Bits(from: Float(bitPattern: 0x3F80_8000)), 0x3F80)  // tie -> even
        XCTAssertEqual(HalfPrecision.bf16Bits(from: Float(bitPattern: 0x3F81_8000)), 0x3F82)  // tie -> even
        XCTAssertTrue(HalfPrecision.float(fromBF16: HalfPrecision.bf16Bits(from: Float(bitPattern: 0x7F80_0001))).isNaN)

        XCTAssertEqual(HalfPrecision.float(fromF8E5M2: 0x3C), 1)
        XCTAssertEqual(HalfPrecision.float(fromF8E5M2: 0x7C), .infinity)
        XCTAssertEqual(HalfPrecision.float(fromF8E4M3: 0x38), 1)
        XCTAssertEqual(HalfPrecision.float(fromF8E4M3: 0x7E), 448)
        XCTAssertEqual(HalfPrecision.float(fromF8E4M3: 0xC0), -2)
        XCTAssertEqual(HalfPrecision.float(fromF8E4M3: 0x01), 0x1p-9)
        XCTAssertTrue(HalfPrecision.float(fromF8E4M3: 0x7F).isNaN)
    }

    func testF32ToF16Rounding() {
        XCTAssertEqual(HalfPrecision.f16Bits(from: 1), 0x3C00)
        XCTAssertEqual(HalfPrecision.f16Bits(from: 65504), 0x7BFF)
        XCTAssertEqual(HalfPrecision.f16Bits(from: 65520), 0x7C00)          // rounds up to infinity
        XCTAssertEqual(HalfPrecision.f16Bits(from: 65519), 0x7BFF)
        XCTAssertEqual(HalfPrecision.f16Bits(from: 1e10), 0x7C00)
        XCTAssertEqual(HalfPrecision.f16Bits(from: -.infinity), 0xFC00)
        XCTAssertEqual(HalfPrecision.f16Bits(from: 0x1p-24), 0x0001)
        XCTAssertEqual(HalfPrecision.f16Bits(from: 0x1p-25), 0x0000)        // tie -> even (zero)
        XCTAssertEqual(HalfPrecision.f16Bits(from: 0x1.8p-24), 0x0002)      // tie -> even (2)
        XCTAssertEqual(HalfPrecision.f16Bits(from: 0x1.0000_02p-25), 0x0001)
        XCTAssertEqual(HalfPrecision.f16Bits(from: -0.0), 0x8000)
        XCTAssertEqual(HalfPrecision.f16Bits(from: 1 + 0x1p-11), 0x3C00)    // tie -> even
        XCTAssertEqual(HalfPrecision.f16Bits(from: 1 + 0x1.8p-10), 0x3C02)  // tie -> even (up)
        XCTAssertTrue(HalfPrecision.float(fromF16: HalfPrecision.f16Bits(from: .nan)).isNaN)
        XCTAssertTrue(HalfPrecision.float(fromF16: HalfPrecision.f16Bits(from: Float(bitPattern: 0x7F80_0001))).isNaN)
    }

    func testEveryF16PatternRoundTrips() {
        for bits in 0...UInt16.max {
            let value = HalfPrecision.float(fromF16: bits)
            if value.isNaN { continue }
            XCTAssertEqual(HalfPrecision.f16Bits(from: value), bits, "pattern \(String(bits, radix: 16))")
        }
    }

    #if !(os(macOS) && arch(x86_64))
    /// Float16 is the hardware/compiler-rt reference where it exists.
    func testAgreesWithFloat16() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let actual = HalfPrecision.float(fromF16: bits)
            if expected.isNaN {
                XCTAssertTrue(actual.isNaN)
            } else {
                XCTAssertEqual(actual.bitPattern, expected.bitPattern, "pattern \(String(bits, radix: 16))")
            }
        }
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<200_000 {
            let random = UInt32(truncatingIfNeeded: generator.next())
            // Half the samples anywhere, half with exponents around the binary16 range.
            let bits = random & 1 == 0 ? random : (random & 0x8000_0000) | (0x3000_0000 + random % 0x1800_0000)
            let value = Float(bitPattern: bits)
            if value.isNaN { continue }
            XCTAssertEqual(HalfPrecision.f16Bits(from: value), Float16(value).bitPattern, "\(value)")
        }
    }
    #endif
}
