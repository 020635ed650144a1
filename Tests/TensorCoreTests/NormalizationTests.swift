import XCTest
import TensorCore

/// groupNorm, layerNorm and softmax.
final class NormalizationTests: XCTestCase {

    // MARK: groupNorm

    func testGroupNormHandComputed() {
        // x: N=1, C=2, spatial 2; channel 0 = [1,3], channel 1 = [5,7].
        // groups = 1: mean 4, var ((−3)²+(−1)²+1²+3²)/4 = 5 → (x−4)/√5 = [−3,−1,1,3]/√5
        let x = Tensor(shape: [1, 2, 2], values: [1, 3, 5, 7])
        let r5 = 1 / 5.0.squareRoot()
        assertClose(x.groupNorm(groups: 1, weight: nil, bias: nil, eps: 0),
                    [-3 * r5, -r5, r5, 3 * r5], shape: [1, 2, 2])
        // groups = 2: each channel on its own, mean 2 / 6, var 1 → [−1, 1, −1, 1]
        assertClose(x.groupNorm(groups: 2, weight: nil, bias: nil, eps: 0), [-1, 1, -1, 1], shape: [1, 2, 2])
        // default eps 1e-5: divide by √(1 + 1e-5) = 1.000005 instead of 1 → ±0.999995.
        // (Tolerance 1e-6 < the 5e-6 that eps contributes, so ignoring eps would fail.)
        let e = 1 / (1 + 1e-5).squareRoot()
        assertClose(x.groupNorm(groups: 2, weight: nil, bias: nil), [-e, e, -e, e], shape: [1, 2, 2],
                    rtol: 1e-6, atol: 1e-6)
        // affine: weight [2, −1], bias [0.5, 0] → ch0 [−1.5, 2.5], ch1 [1, −1]
        let w = Tensor(shape: [2], values: [2, -1]), b = Tensor(shape: [2], values: [0.5, 0])
        assertClose(x.groupNorm(groups: 2, weight: w, bias: b, eps: 0), [-1.5, 2.5, 1, -1], shape: [1, 2, 2])
        // affine with groups = 1: ch0 = 2·[−3,−1]/√5 + 0.5, ch1 = −[1,3]/√5
        assertClose(x.groupNorm(groups: 1, weight: w, bias: b, eps: 0),
                    [-6 * r5 + 0.5, -2 * r5 + 0.5, -r5, -3 * r5], shape: [1, 2, 2])
    }

    func testGroupNormConstantInputGivesBias() {
        // Zero variance: (x − mean) = 0 exactly, so the output is the bias.
        let x = Tensor(shape: [2, 4, 3, 3], repeating: 7.25)
        let b = Tensor(shape: [4], values: [1, 2, 3, 4])
        let out = x.groupNorm(groups: 2, weight: Tensor(shape: [4], repeating: 3), bias: b)
        let expected = (0..<72).map { Double((($0 / 9) % 4) + 1) }
        assertClose(out, expected, shape: x.shape, rtol: 0, atol: 1e-6)
    }

    func testGroupNormAgainstReference() {
        let cases: [([Int], Int)] = [
            ([2, 6, 5, 3], 3), ([1, 7, 17], 7), ([3, 15, 4, 4], 5), ([2, 5], 1), ([1, 4, 1, 1], 2),
            ([1, 32, 3, 5], 32), ([1, 13, 2, 3], 1), ([2, 4, 3, 2, 2], 2),
        ]
        var seed: UInt64 = 600
        for (shape, groups) in cases {
            for affine in 0..<4 {  // none, weight only, bias only, both
                seed += 3
                let x = random(shape, seed: seed, scale: 3)
                let c = shape[1]
                let w = affine & 1 != 0 ? random([c], seed: seed + 1, scale: 2) : nil
                let b = affine & 2 != 0 ? random([c], seed: seed + 2) : nil
                let ref = refGroupNorm(doubles(x), shape: shape, groups: groups, weight: w.map(doubles),
                                       bias: b.map(doubles), eps: 1e-5)
                assertClose(x.groupNorm(groups: groups, weight: w, bias: b), ref, shape: shape,
                            "\(shape) groups \(groups) affine \(affine)")
            }
        }
    }

    func testGroupNormLargeOffsetIsStable() {
        // Values 100 + noise in [−0.1, 0.1) (std ≈ 0.058, mean/std ≈ 1700). A one-pass
        // E[x²] − E[x]² accumulated in Float loses ~1e4·6e-8 = 6e-4 of a 3.3e-3 variance (≈ 20%);
        // TensorCore accumulates in Double. What remains is the Float rounding of x·scale + shift
        // (PyTorch's CPU formulation too), ≈ (mean/std)·2⁻²⁴ ≈ 1e-4, hence atol 1e-3.
        let noise = random([2, 4, 8, 8], seed: 31, scale: 0.1)
        let x = noise + 100
        let ref = refGroupNorm(doubles(x), shape: x.shape, groups: 2, weight: nil, bias: nil, eps: 1e-5)
        assertClose(x.groupNorm(groups: 2, weight: nil, bias: nil), ref, shape: x.shape, rtol: 0, atol: 1e-3)
    }

    // MARK: layerNorm

    func testLayerNormHandComputed() {
        // [1,2,3,4]: mean 2.5, var (2.25+0.25+0.25+2.25)/4 = 1.25 → (x − 2.5)/√1.25
        //   = [−1.3416408, −0.4472136, 0.4472136, 1.3416408]
        let x = Tensor(shape: [1, 4], values: [1, 2, 3, 4])
        let a = 1.3416407864998738, c = 0.4472135954999579
        assertClose(x.layerNorm(weight: nil, bias: nil, eps: 0), [-a, -c, c, a], shape: [1, 4])
        // weight [1,2,3,4], bias [0,0,0,1] → [−a, −2c, 3c, 4a + 1]
        let w = Tensor(shape: [4], values: [1, 2, 3, 4]), b = Tensor(shape: [4], values: [0, 0, 0, 1])
        assertClose(x.layerNorm(weight: w, bias: b, eps: 0), [-a, -2 * c, 3 * c, 4 * a + 1], shape: [1, 4])
        // Rows are independent: a second row [10, 20, 30, 40] normalises to the same values.
        let two = Tensor(shape: [2, 4], values: [1, 2, 3, 4, 10, 20, 30, 40])
        assertClose(two.layerNorm(weight: nil, bias: nil, eps: 0), [-a, -c, c, a, -a, -c, c, a], shape: [2, 4])
    }

    func testLayerNormSingleFeatureGivesBias() {
        // d = 1: x − mean = 0 → output = bias.
        let x = Tensor(shape: [5, 1], values: [1, -2, 3, 100, 0])
        assertExact(x.layerNorm(weight: Tensor(shape: [1], values: [4]), bias: Tensor(shape: [1], values: [0.5])),
                    [0.5, 0.5, 0.5, 0.5, 0.5], shape: [5, 1])
    }

    func testLayerNormAgainstReference() {
        let shapes = [[3, 7, 33], [17], [1, 1, 3], [2, 5, 768], [13, 2]]
        var seed: UInt64 = 700
        for shape in shapes {
            for affine in 0..<4 {
                seed += 3
                let d = shape.last!
                let x = random(shape, seed: seed, scale: 4)
                let w = affine & 1 != 0 ? random([d], seed: seed + 1, scale: 2) : nil
                let b = affine & 2 != 0 ? random([d], seed: seed + 2) : nil
                let ref = refLayerNorm(doubles(x), d: d, weight: w.map(doubles), bias: b.map(doubles), eps: 1e-5)
                assertClose(x.layerNorm(weight: w, bias: b), ref, shape: shape, "\(shape) affine \(affine)")
            }
        }
    }

    // MARK: softmax

    func testSoftmaxHandComputed() {
        // exp([0, ln2, ln3]) = [1,2,3] → [1/6, 2/6, 3/6]
        let x = Tensor(shape: [1, 3], values: [0, Float(log(2.0)), Float(log(3.0))])
        assertClose(x.softmax(), [1.0 / 6, 2.0 / 6, 3.0 / 6], shape: [1, 3], rtol: 1e-6, atol: 1e-7)
        assertClose(Tensor(shape: [4], repeating: -3).softmax(), [0.25, 0.25, 0.25, 0.25], shape: [4])
        // [1, 0]: [e/(1+e), 1/(1+e)] = [0.7310586, 0.2689414]; rows of a matrix are independent.
        let m = Tensor(shape: [2, 2], values: [1, 0, 5, 5])
        assertClose(m.softmax(), [0.7310585786300049, 0.2689414213699951, 0.5, 0.5], shape: [2, 2],
                    rtol: 1e-6, atol: 1e-7)
        // A single element is always 1.
        assertExact(Tensor(shape: [3, 1], values: [-5, 0, 1e20]).softmax(), [1, 1, 1], shape: [3, 1])
    }

    func testSoftmaxLargeInputs() {
        // Shift invariance with huge values (no overflow): [1000, 999] → [0.7310586, 0.2689414]
        let p = 0.7310585786300049, q = 0.2689414213699951
        assertClose(Tensor(shape: [2], values: [1000, 999]).softmax(), [p, q], shape: [2], rtol: 1e-6, atol: 1e-7)
        assertClose(Tensor(shape: [2], values: [-1000, -1001]).softmax(), [p, q], shape: [2], rtol: 1e-6, atol: 1e-7)
        assertClose(Tensor(shape: [2], values: [1e30, 1e30]).softmax(), [0.5, 0.5], shape: [2])
        let big = Float.greatestFiniteMagnitude
        assertExact(Tensor(shape: [3], values: [big, -big, 0]).softmax(), [1, 0, 0], shape: [3])
        assertExact(Tensor(shape: [2], values: [-big, -big]).softmax(), [0.5, 0.5], shape: [2])
    }

    func testSoftmaxInfinities() {
        // −inf entries get probability 0; the rest renormalise: [−inf, 0, −inf, ln3] → [0, 1/4, 0, 3/4]
        let x = Tensor(shape: [4], values: [-.infinity, 0, -.infinity, Float(log(3.0))])
        assertClose(x.softmax(), [0, 0.25, 0, 0.75], shape: [4], rtol: 1e-6, atol: 1e-7)
        // A row of all −inf is defined (TensorCore convention, used by masked attention) as all zeros,
        // and must not disturb neighbouring rows.
        let rows = Tensor(shape: [3, 3], values: [-.infinity, -.infinity, -.infinity, 0, 0, 0, 1, -.infinity, 1])
        assertClose(rows.softmax(), [0, 0, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0.5, 0, 0.5], shape: [3, 3],
                    rtol: 1e-6, atol: 1e-7)
    }

    func testSoftmaxAgainstReference() {
        let shapes = [[7, 33], [1, 1], [17], [2, 3, 5], [3, 1000], [4000, 3]]
        var seed: UInt64 = 800
        for shape in shapes {
            seed += 1
            let x = random(shape, seed: seed, scale: 20)
            let d = shape.last!
            var ref: [Double] = []
            let xv = doubles(x)
            for r in 0..<(xv.count / d) { ref += refSoftmax(Array(xv[(r * d)..<((r + 1) * d)])) }
            assertClose(x.softmax(), ref, shape: shape, rtol: 1e-5, atol: 1e-7, "\(shape)")
            // Input untouched (softmax works on a copy).
            XCTAssertEqual(x.scalars, random(shape, seed: seed, scale: 20).scalars)
        }
    }

    func testSoftmaxVectorPathInfinitiesAndUnderflow() {
        // Rows long enough for the 8-lane kernel: −inf inside the vector part gives exactly 0,
        // entries 100 below the maximum underflow to 0 as exp does, the rest match a reference.
        for d in [8, 19, 64] {
            var values = (0..<d).map { Float($0 % 5) * 0.5 }
            values[3] = -.infinity
            values[d - 1] = -.infinity
            values[1] = values.max()! - 100
            let out = Tensor(shape: [d], values: values).softmax().scalars
            XCTAssertEqual(out[3], 0, "d \(d)")
            XCTAssertEqual(out[d - 1], 0, "d \(d)")
            XCTAssertLessThan(out[1], 1e-37, "d \(d)")
            let ref = refSoftmax(values.map { $0 == -.infinity ? -1e300 : Double($0) })
            for i in 0..<d { XCTAssertEqual(Double(out[i]), ref[i], accuracy: 1e-6 * max(ref[i], 1e-30) + 1e-12, "d \(d) i \(i)") }
        }
    }

    func testSoftmaxEmpty() {
        XCTAssertEqual(Tensor(shape: [0, 5]).softmax().shape, [0, 5])
        XCTAssertEqual(Tensor(shape: [3, 0]).softmax().shape, [3, 0])
    }
}
