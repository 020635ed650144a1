/// One lane of `log256_ps` and `sincos256_ps` from PyTorch's `ATen/native/cpu/avx_mathfun.h`
/// (Cephes single-precision polynomials, after Julien Pommier's sse_mathfun), the functions
/// torch's AVX2 `randn` kernel uses instead of libm.
///
/// The shipped torch wheels build that file with GCC at -O2 -mfma, and GCC contracts each multiply
/// that feeds an add into one fused multiply-add; the contractions below (`addingProduct`) are the
/// ones that build makes, which is what makes the results bit-identical rather than within an ulp.
enum AVXMathFun {
    /// Natural logarithm for x > 0 (x ≤ 0 is never passed: Box-Muller gives it (0, 1]).
    static func log(_ input: Float) -> Float {
        let minNormPos = Float(bitPattern: 0x0080_0000)
        var x = max(input, minNormPos)
        var bits = x.bitPattern
        let exponent = Int32(bitPattern: bits >> 23) - 0x7F
        bits = (bits & ~UInt32(0x7F80_0000)) | Float(0.5).bitPattern
        x = Float(bitPattern: bits)
        var e = Float(exponent) + 1
        // if x < sqrt(1/2): e -= 1, x = x + x - 1; else x = x - 1
        let below = x < Float(0.707106781186547524)
        let tmp: Float = below ? x : 0
        x = x - 1
        if below { e = e - 1 }
        x = x + tmp

        let z = x * x
        var y = Float(7.0376836292E-2)
        y = Float(-1.1514610310E-1).addingProduct(y, x)
        y = Float(1.1676998740E-1).addingProduct(y, x)
        y = Float(-1.2420140846E-1).addingProduct(y, x)
        y = Float(1.4249322787E-1).addingProduct(y, x)
        y = Float(-1.6668057665E-1).addingProduct(y, x)
        y = Float(2.0000714765E-1).addingProduct(y, x)
        y = Float(-2.4999993993E-1).addingProduct(y, x)
        y = Float(3.3333331174E-1).addingProduct(y, x)
        y = y * x
        y = (e * Float(-2.12194440e-4)).addingProduct(y, z)
        y = y.addingProduct(-z, Float(0.5))
        x = x + y
        x = x.addingProduct(e, Float(0.693359375))
        return x
    }

    /// Sine and cosine of x (|x| < 8192).
    static func sincos(_ input: Float) -> (sin: Float, cos: Float) {
        var signSin = input.bitPattern & 0x8000_0000
        var x = Float(bitPattern: input.bitPattern & 0x7FFF_FFFF)
        // scale by 4/pi, j = (j + 1) & ~1
        var j = Int32(x * Float(1.27323954473516))  // truncation, as cvttps
        j = (j &+ 1) & ~1
        let y = Float(j)
        let swapSignSin = UInt32(bitPattern: j & 4) << 29
        let polyMask = (j & 2) == 0
        let signCos = UInt32(bitPattern: ~(j &- 2) & 4) << 29
        signSin ^= swapSignSin

        // Extended precision modular arithmetic: x = ((x - y*DP1) - y*DP2) - y*DP3
        x = x.addingProduct(y, Float(-0.78515625))
        x = x.addingProduct(y, Float(-2.4187564849853515625e-4))
        x = x.addingProduct(y, Float(-3.77489497744594108e-8))

        let z = x * x
        var yc = Float(-1.388731625493765E-003).addingProduct(Float(2.443315711809948E-005), z)
        yc = Float(4.166664568298827E-002).addingProduct(yc, z)
        yc = yc * z
        yc = (-(z * Float(0.5))).addingProduct(yc, z)
        yc = yc + 1

        var ys = Float(8.3321608736E-3).addingProduct(Float(-1.9515295891E-4), z)
        ys = Float(-1.6666654611E-1).addingProduct(ys, z)
        ys = ys * z
        ys = x.addingProduct(ys, x)

        // Select per polynomial (+0 added to the unused lane, as the masked adds do).
        let sinValue = polyMask ? 0 + ys : yc + 0
        let cosValue = polyMask ? yc + 0 : 0 + ys
        return (Float(bitPattern: sinValue.bitPattern ^ signSin), Float(bitPattern: cosValue.bitPattern ^ signCos))
    }
}
