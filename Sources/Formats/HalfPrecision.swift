/// Bit-level conversions between Float32 and the 16- and 8-bit float formats found in
/// weights files.
///
/// Written out rather than through `Float16` because that type does not exist on
/// Intel Macs, and these need to behave the same everywhere. Tests compare them with
/// `Float16` on every 16-bit pattern where it is available.
public enum HalfPrecision {
    /// IEEE 754 binary16 -> Float32, exact, including subnormals, infinities and NaN payloads.
    @inline(__always)
    public static func float(fromF16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0x1F {  // infinity or NaN: keep the payload
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {  // zero or subnormal: mantissa x 2^-24, exact in Float32
            let magnitude = Float(mantissa) * 0x1p-24
            return Float(bitPattern: sign | magnitude.bitPattern)
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// bfloat16 -> Float32: bfloat16 is the top half of a Float32.
    @inline(__always)
    public static func float(fromBF16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Float32 -> IEEE 754 binary16, rounding to nearest even; overflow gives infinity,
    /// NaN stays NaN (quiet).
    @inline(__always)
    public static func f16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF {
            return sign | 0x7C00 | (mantissa != 0 ? 0x200 | UInt16(truncatingIfNeeded: mantissa >> 13) : 0)
        }
        let halfExponent = exponent - 127 + 15
        if halfExponent >= 0x1F { return sign | 0x7C00 }
        if halfExponent <= 0 {
            // Subnormal half (or zero): shift the 24-bit significand into place and round.
            if halfExponent < -10 { return sign }
            let significand = mantissa | 0x80_0000
            let shift = UInt32(14 - halfExponent)
            return sign | UInt16(truncatingIfNeeded: roundShift(significand, by: shift))
        }
        // A carry out of the mantissa correctly bumps the exponent (up to infinity).
        let combined = (UInt32(halfExponent) << 23) | mantissa
        return sign | UInt16(truncatingIfNeeded: roundShift(combined, by: 13))
    }

    /// Float32 -> bfloat16, rounding to nearest even; NaN stays NaN.
    @inline(__always)
    public static func bf16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
        return UInt16(truncatingIfNeeded: roundShift(bits, by: 16))
    }

    /// float8 E5M2 -> Float32: E5M2 is the top byte of a binary16.
    @inline(__always)
    public static func float(fromF8E5M2 bits: UInt8) -> Float {
        float(fromF16: UInt16(bits) << 8)
    }

    /// float8 E4M3 ("fn" variant: bias 7, no infinities, S.1111.111 is NaN) -> Float32.
    @inline(__always)
    public static func float(fromF8E4M3 bits: UInt8) -> Float {
        let negative = bits & 0x80 != 0
        let exponent = Int((bits >> 3) & 0xF)
        let mantissa = Float(bits & 0x7)
        let magnitude: Float
        if exponent == 0xF && bits & 0x7 == 0x7 {
            magnitude = .nan
        } else if exponent == 0 {
            magnitude = mantissa * 0x1p-9
        } else {
            magnitude = (1 + mantissa / 8) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
        }
        return negative ? -magnitude : magnitude
    }

    /// `value >> shift`, rounded to nearest with ties to even.
    @inline(__always)
    private static func roundShift(_ value: UInt32, by shift: UInt32) -> UInt32 {
        let kept = value >> shift
        let remainder = value & ((1 << shift) - 1)
        let half: UInt32 = 1 << (shift - 1)
        if remainder > half || (remainder == half && kept & 1 == 1) { return kept + 1 }
        return kept
    }
}
