import Foundation
import TensorCore

/// The deterministic stand-in for the UNet used by the golden loops (see
/// make_sampling_fixtures.py): `c1(t) · input + c2(t) · base` in Float32, with
/// c1 = float32(0.1 + 0.05 sin(t/100)) and c2 = float32(0.5 cos(t/300)) computed in Float64.
struct FakeModel {
    let base: Tensor

    func callAsFunction(_ input: Tensor, _ t: Float) -> Tensor {
        let td = Double(t)
        let c1 = Float(0.1 + 0.05 * sin(td / 100.0))
        let c2 = Float(0.5 * cos(td / 300.0))
        return Tensor.linearCombination(c1, input, c2, base)
    }
}
