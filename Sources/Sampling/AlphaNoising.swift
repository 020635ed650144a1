import TensorCore

/// The forward process in ᾱ form shared by DDIM and LCM: `√ᾱ · x₀ + √(1 − ᾱ) · ε`.
enum AlphaNoising {
    static func addNoise(original: Tensor, noise: Tensor, alphaCumprod: Float) -> Tensor {
        let a = alphaCumprod.squareRoot(), b = (1 - alphaCumprod).squareRoot()
        return elementwise(original, noise) { x, n in a * x + b * n }
    }
}
