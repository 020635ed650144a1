import XCTest
import Foundation
import TensorCore

/// Point-wise activations at known points and against Double formulas.
final class ActivationTests: XCTestCase {

    let points: [Float] = [-3, -1, 0, 0.5, 1, 2]

    func at(_ f: (Tensor) -> Tensor, _ xs: [Float]) -> Tensor { f(Tensor(shape: [xs.count], values: xs)) }

    func testGeluKnownPoints() {
        // x·Φ(x): Φ(1) = 0.8413447, Φ(−1) = 0.1586553, 2·Φ(2) = 1.9544997, −3·Φ(−3) = −0.0040497
        assertClose(at({ $0.gelu() }, points),
                    [-0.00404969409489031, -0.15865525393145707, 0, 0.34573123063700656,
                     0.8413447460685429, 1.9544997361036416], shape: [6], rtol: 1e-6, atol: 1e-7)
    }

    func testGeluTanhKnownPoints() {
        // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715x³))): at 1 → 0.8411920 (exact GELU gives 0.8413447)
        assertClose(at({ $0.geluTanh() }, points),
                    [-0.0036373920817729943, -0.15880800939172324, 0, 0.34571400982514394,
                     0.8411919906082768, 1.954597694087775], shape: [6], rtol: 1e-6, atol: 1e-7)
    }

    func testQuickGeluKnownPoints() {
        // x·sigmoid(1.702·x): at 1 → sigmoid(1.702) = 0.8457958
        assertClose(at({ $0.quickGelu() }, points),
                    [-0.01807130970778597, -0.1542042340671787, 0, 0.35038843660638014,
                     0.8457957659328212, 1.9356586231442083], shape: [6], rtol: 1e-6, atol: 1e-7)
    }

    func testSiluAndSigmoidKnownPoints() {
        // silu(x) = x·sigmoid(x): sigmoid(1) = 0.7310586, sigmoid(2) = 0.8807971
        assertClose(at({ $0.silu() }, points),
                    [-0.14227761953270035, -0.2689414213699951, 0, 0.3112296656009273,
                     0.7310585786300049, 1.7615941559557646], shape: [6], rtol: 1e-6, atol: 1e-7)
        assertClose(at({ $0.sigmoid() }, points),
                    [0.04742587317756678, 0.2689414213699951, 0.5, 0.6224593312018546,
                     0.7310585786300049, 0.8807970779778823], shape: [6], rtol: 1e-6, atol: 1e-7)
    }

    func testSaturationHasNoNaN() {
        // Far tails: no inf/inf or 0·inf NaNs.
        let x = Tensor(shape: [4], values: [-1000, -100, 100, 1000])
        for (name, t) in [("silu", x.silu()), ("sigmoid", x.sigmoid()), ("gelu", x.gelu()),
                          ("geluTanh", x.geluTanh()), ("quickGelu", x.quickGelu())] {
            XCTAssertFalse(t.scalars.contains { $0.isNaN || $0.isInfinite }, "\(name): \(t.scalars)")
        }
        assertClose(x.silu(), [0, 0, 100, 1000], shape: [4], rtol: 1e-6, atol: 1e-6)
        assertClose(x.sigmoid(), [0, 0, 1, 1], shape: [4], rtol: 0, atol: 1e-7)
        assertClose(x.gelu(), [0, 0, 100, 1000], shape: [4], rtol: 1e-6, atol: 1e-6)
        assertClose(x.geluTanh(), [0, 0, 100, 1000], shape: [4], rtol: 1e-6, atol: 1e-6)
    }

    func testLeakyReluReluTanhExp() {
        let x = Tensor(shape: [4], values: [-2, 0, 3, -0.5])
        assertExact(x.leakyRelu(), [-0.02, 0, 3, -0.005], shape: [4])          // default slope 0.01
        assertExact(x.leakyRelu(slope: 0.2), [-0.4, 0, 3, -0.1], shape: [4])
        assertExact(x.leakyRelu(slope: 1), [-2, 0, 3, -0.5], shape: [4])        // identity
        assertExact(x.relu(), [0, 0, 3, 0], shape: [4])
        // tanh(0.5) = 0.4621172, e¹ = 2.7182818
        assertClose(Tensor(shape: [3], values: [0.5, 0, -0.5]).tanh(), [0.46211715726000974, 0, -0.46211715726000974],
                    shape: [3], rtol: 1e-6, atol: 1e-7)
        assertClose(Tensor(shape: [3], values: [1, 0, -1]).exp(), [M_E, 1, 1 / M_E], shape: [3], rtol: 1e-6, atol: 0)
    }

    func testAgainstDoubleFormulas() {
        // 2·3·5·7·17 = 3570 points in [−8, 8), enough to take the parallel path.
        let x = random([2, 3, 5, 7, 17], seed: 42, scale: 8)
        let xv = doubles(x)
        func sig(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        let refs: [(String, Tensor, (Double) -> Double)] = [
            ("gelu", x.gelu(), { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }),
            ("geluTanh", x.geluTanh(), { 0.5 * $0 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }),
            ("quickGelu", x.quickGelu(), { $0 * sig(1.702 * $0) }),
            ("silu", x.silu(), { $0 * sig($0) }),
            ("sigmoid", x.sigmoid(), sig),
            ("tanh", x.tanh(), { Foundation.tanh($0) }),
            ("exp", x.exp(), { Foundation.exp($0) }),
            ("relu", x.relu(), { max($0, 0) }),
            ("leakyRelu", x.leakyRelu(slope: 0.125), { $0 >= 0 ? $0 : 0.125 * $0 }),
        ]
        for (name, out, f) in refs {
            // Relative 2e-6 and absolute 1e-6: a few Float ulps for a handful of libm calls.
            assertClose(out, xv.map(f), shape: x.shape, rtol: 2e-6, atol: 1e-6, name)
        }
    }

    func testShapesPreservedAndEmpty() {
        let e = Tensor(shape: [2, 0, 3])
        XCTAssertEqual(e.gelu().shape, [2, 0, 3])
        XCTAssertEqual(Tensor.scalar(1).silu().shape, [])
        XCTAssertEqual(Tensor.scalar(1).silu().scalars[0], 0.7310586, accuracy: 1e-6)
    }
}
