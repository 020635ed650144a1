import TensorCore

/// One mapping of the ELITE global-mapper shape: Linear-LayerNorm-LeakyReLU-Linear-
/// LayerNorm-LeakyReLU-Linear (PyTorch Sequential indices 0, 1, 3, 4, 6).
struct AdapterMLP {
    let first: Linear, firstNorm: LayerNorm
    let second: Linear, secondNorm: LayerNorm
    let output: Linear

    init(_ path: WeightPath, in inFeatures: Int, hidden: Int, out outFeatures: Int) throws {
        first = try Linear(path("0"), in: inFeatures, out: hidden)
        firstNorm = try LayerNorm(path("1"), features: hidden, eps: 1e-5)
        second = try Linear(path("3"), in: hidden, out: hidden)
        secondNorm = try LayerNorm(path("4"), features: hidden, eps: 1e-5)
        output = try Linear(path("6"), in: hidden, out: outFeatures)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = firstNorm(first(x)).leakyRelu(slope: 0.01)
        return output(secondNorm(second(h)).leakyRelu(slope: 0.01))
    }
}
