/// Deterministic fills for benchmarks and random-weight models.
extension Tensor {
    /// Uniform values in [-scale, scale) from a SplitMix64 stream: cheap, seeded, portable.
    public static func seededUniform(shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        for i in 0..<out.count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            let unit = Float(z >> 40) / Float(1 << 24)  // [0, 1)
            out.data[i] = (unit * 2 - 1) * scale
        }
        return out
    }
}
