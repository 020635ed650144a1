import Foundation

/// Reproduces PyTorch's CPU generator: `TorchRandomSource(seed: s)` then `normalTensor(shape:)`
/// gives the values of `torch.randn(shape, generator=torch.Generator().manual_seed(s))`, bit for
/// bit, and successive calls continue the generator as successive `torch.randn` calls do (what
/// diffusers' pipelines do with the one generator they are given).
///
/// How torch 2.x draws `randn` on the CPU (aten `normal_kernel`):
/// - The engine is MT19937 seeded with the low 32 bits of the seed. A Float32 uniform is
///   `(next() & 0xFFFFFF) · 2⁻²⁴`; a Float64 uniform is `((hi << 32 | lo) & (2⁵³ − 1)) · 2⁻⁵³`
///   from two draws, the first one high.
/// - Fewer than 16 values: element by element, `normal_distribution<double>`: Box-Muller on two
///   Float64 uniforms u1, u2, r = √(−2 log1p(−u2)), θ = 2π u1, returns r cos θ and keeps r sin θ in
///   the generator for its next scalar normal (the cache survives between calls).
/// - 16 values or more (`normal_fill`): fill the whole buffer with Float32 uniforms first, then
///   turn each block of 16 into normals in place by Box-Muller over the pairs (j, j + 8) with
///   u1 = 1 − data[j]; if the size is not a multiple of 16, draw 16 fresh uniforms over the last
///   16 positions and transform them again. `Kernel.avx2` evaluates log/sin/cos with the Cephes
///   polynomials of torch's AVX2 kernel (x86 machines whose best torch kernel is AVX2, torch's
///   `get_cpu_capability() == "AVX2"`); `Kernel.scalar` uses libm in Float32 like torch's portable
///   kernel (capability "DEFAULT", e.g. `ATEN_CPU_CAPABILITY=default` or non-x86 machines; by
///   torch's source also the AVX512 kernel, which has no vectorised normal_fill).
///
/// Both kernels are checked bit for bit against torch 2.13 (`Tests/Fixtures/sampling/randn_*.json`).
public final class TorchRandomSource: RandomSource {
    public enum Kernel: String, Sendable {
        case avx2, scalar
    }

    public let seed: UInt64
    public let kernel: Kernel
    private var engine: MersenneTwister
    private var cachedNormal: Double?

    public init(seed: UInt64, kernel: Kernel = .avx2) {
        self.seed = seed
        self.kernel = kernel
        engine = MersenneTwister(seed: seed)
    }

    public func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>) {
        let size = buffer.count
        guard let data = buffer.baseAddress, size > 0 else { return }
        guard size >= 16 else {
            for i in 0..<size { data[i] = Float(scalarNormal()) }
            return
        }
        for i in 0..<size { data[i] = uniformFloat() }
        var i = 0
        while i + 16 <= size {
            transform16(data + i)
            i += 16
        }
        if size % 16 != 0 {
            let tail = data + size - 16
            for j in 0..<16 { tail[j] = uniformFloat() }
            transform16(tail)
        }
    }

    @inline(__always)
    private func uniformFloat() -> Float {
        Float(engine.next() & 0xFF_FFFF) * (1.0 / 16_777_216.0)
    }

    @inline(__always)
    private func uniformDouble() -> Double {
        let hi = UInt64(engine.next()), lo = UInt64(engine.next())
        return Double(((hi << 32) | lo) & ((1 << 53) - 1)) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `at::normal_distribution<double>` with mean 0, std 1.
    private func scalarNormal() -> Double {
        if let cached = cachedNormal {
            cachedNormal = nil
            return cached
        }
        let u1 = uniformDouble(), u2 = uniformDouble()
        let r = (-2.0 * log1p(-u2)).squareRoot()
        let theta = 2.0 * Double.pi * u1
        cachedNormal = r * sin(theta)
        return r * cos(theta)
    }

    /// Box-Muller over the pairs (j, j + 8) of 16 uniforms, in place.
    @inline(__always)
    private func transform16(_ p: UnsafeMutablePointer<Float>) {
        switch kernel {
        case .avx2:
            let twoPi = Float(2.0 * Double.pi)
            for j in 0..<8 {
                let u1 = 1 - p[j], u2 = p[j + 8]
                let radius = (-2 * AVXMathFun.log(u1)).squareRoot()
                let (s, c) = AVXMathFun.sincos(twoPi * u2)
                p[j] = radius * c
                p[j + 8] = radius * s
            }
        case .scalar:
            for j in 0..<8 {
                let u1 = 1 - p[j], u2 = p[j + 8]
                let radius = (-2 * Foundation.log(u1)).squareRoot()
                let theta = Float(2.0 * Double.pi * Double(u2))
                p[j] = radius * Foundation.cos(theta)
                p[j + 8] = radius * Foundation.sin(theta)
            }
        }
    }
}
