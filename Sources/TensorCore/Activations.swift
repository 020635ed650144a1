import Foundation

/// Point-wise activation functions (PyTorch definitions).
extension Tensor {
    public func silu() -> Tensor { map { $0 / (1 + expf(-$0)) } }

    /// Exact GELU: x·Φ(x) with the error function.
    public func gelu() -> Tensor { map { 0.5 * $0 * (1 + erff($0 * 0.70710678118654752)) } }

    /// GELU's tanh approximation (PyTorch `approximate="tanh"`).
    public func geluTanh() -> Tensor {
        map { x in 0.5 * x * (1 + tanhf(0.79788456080286536 * (x + 0.044715 * x * x * x))) }
    }

    /// CLIP's x·sigmoid(1.702·x).
    public func quickGelu() -> Tensor { map { $0 / (1 + expf(-1.702 * $0)) } }

    public func leakyRelu(slope: Float = 0.01) -> Tensor { map { $0 >= 0 ? $0 : slope * $0 } }

    public func relu() -> Tensor { map { max($0, 0) } }

    public func sigmoid() -> Tensor { map { 1 / (1 + expf(-$0)) } }

    public func tanh() -> Tensor { map { tanhf($0) } }

    public func exp() -> Tensor { map { expf($0) } }
}
