import Foundation

/// A fast, portable, seeded standard-normal source: xoshiro256** (Blackman & Vigna 2018, state
/// seeded by SplitMix64 from the seed) gives 53-bit Float64 uniforms, and Box-Muller turns each
/// pair into two normals, `√(−2 ln(1 − u₁)) · (cos 2πu₂, sin 2πu₂)`, rounded to Float32.
///
/// Deterministic per seed on every platform (Float64 libm differences aside, which only reach the
/// last Float32 bit in rare cases). Each call uses ⌈count/2⌉ fresh pairs; nothing is carried over
/// between calls.
public final class SeededGaussianSource: RandomSource {
    public let seed: UInt64
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// xoshiro256**: the next 64 random bits.
    @inline(__always)
    public func nextUInt64() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform Float64 in [0, 1) with 53 random bits.
    @inline(__always)
    public func nextUniform() -> Double {
        Double(nextUInt64() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    public func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>) {
        var i = 0
        while i < buffer.count {
            let radius = (-2 * log(1 - nextUniform())).squareRoot()  // 1 - u in (0, 1]
            let theta = 2 * Double.pi * nextUniform()
            buffer[i] = Float(radius * cos(theta))
            if i + 1 < buffer.count { buffer[i + 1] = Float(radius * sin(theta)) }
            i += 2
        }
    }
}
