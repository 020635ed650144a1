import Foundation
import TensorCore

/// diffusers' `Timesteps` (sinusoidal features) followed by `TimestepEmbedding` (MLP).
struct TimestepEmbedding {
    let channels: Int
    let flipSinToCos: Bool
    let freqShift: Int
    let linear1: Linear, linear2: Linear

    init(_ path: WeightPath, channels: Int, embeddingDim: Int, flipSinToCos: Bool, freqShift: Int) throws {
        self.channels = channels
        self.flipSinToCos = flipSinToCos
        self.freqShift = freqShift
        linear1 = try Linear(path("linear_1"), in: channels, out: embeddingDim)
        linear2 = try Linear(path("linear_2"), in: embeddingDim, out: embeddingDim)
    }

    /// Sinusoidal features [batch, channels] of one timestep per batch entry.
    func sinusoid(_ timesteps: [Float]) -> Tensor {
        let half = channels / 2
        let out = Tensor(shape: [timesteps.count, channels])
        for (b, t) in timesteps.enumerated() {
            for i in 0..<half {
                // Computed in Float32 like PyTorch: exp(-ln(10000)·i/(half−shift)), times t.
                let exponent = -Float(log(10000.0)) * Float(i) / Float(half - freqShift)
                let angle = t * expf(exponent)
                let (first, second) = flipSinToCos ? (cosf(angle), sinf(angle)) : (sinf(angle), cosf(angle))
                out.data[b * channels + i] = first
                out.data[b * channels + half + i] = second
            }
        }
        return out
    }

    /// The embedding [batch, embeddingDim] (not yet SiLU-activated).
    func callAsFunction(_ timesteps: [Float], deltas: LayerDeltas) -> Tensor {
        linear2(linear1(sinusoid(timesteps), deltas).silu(), deltas)
    }
}
