/// MT19937 (Matsumoto & Nishimura 1998), the engine of PyTorch's CPU generator (`at::mt19937`):
/// the reference 32-bit generator with Knuth's initialisation from a 32-bit seed.
struct MersenneTwister {
    private static let n = 624, m = 397
    private var state: [UInt32]
    private var index: Int

    /// Seeds from the low 32 bits of `seed`, as `at::mt19937(uint64_t seed)` does.
    init(seed: UInt64) {
        var s = [UInt32](repeating: 0, count: Self.n)
        s[0] = UInt32(truncatingIfNeeded: seed)
        for i in 1..<Self.n {
            s[i] = 1_812_433_253 &* (s[i - 1] ^ (s[i - 1] >> 30)) &+ UInt32(i)
        }
        state = s
        index = Self.n
    }

    /// The next 32 random bits.
    @inline(__always)
    mutating func next() -> UInt32 {
        if index >= Self.n { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    private mutating func twist() {
        state.withUnsafeMutableBufferPointer { s in
            for i in 0..<Self.n {
                let y = (s[i] & 0x8000_0000) | (s[(i + 1) % Self.n] & 0x7FFF_FFFF)
                var v = y >> 1
                if y & 1 != 0 { v ^= 0x9908_B0DF }
                s[i] = s[(i + Self.m) % Self.n] ^ v
            }
        }
        index = 0
    }
}
