import TensorCore

/// diffusers' `FeedForward` with GEGLU: proj to 2·inner, value · GELU(gate), back to dim.
struct FeedForward {
    let projection: Linear, output: Linear
    let inner: Int

    init(_ path: WeightPath, dim: Int, multiplier: Int = 4) throws {
        inner = dim * multiplier
        projection = try Linear(path("net")(0)("proj"), in: dim, out: inner * 2)
        output = try Linear(path("net")(2), in: inner, out: dim)
    }

    func callAsFunction(_ x: Tensor, deltas: LayerDeltas) -> Tensor {
        let both = projection(x, deltas)
        let rows = both.count / (2 * inner)
        let gated = Tensor(uninitializedShape: Array(both.shape.dropLast()) + [inner])
        let src = both.data, dst = gated.data, width = inner
        Parallel.forEach(rows, costPerItem: width) { r in
            let value = src + r * 2 * width, gate = value + width, out = dst + r * width
            for i in 0..<width {
                let g = gate[i]
                out[i] = value[i] * 0.5 * g * (1 + erff(g * 0.70710678118654752))
            }
        }
        return output(gated, deltas)
    }
}

import Foundation
