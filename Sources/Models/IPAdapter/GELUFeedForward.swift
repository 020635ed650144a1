import TensorCore

/// diffusers' `FeedForward` with `activation_fn="gelu"` (IP-Adapter's `Linear, GELU, Linear`):
/// a Linear, the exact (erf) GELU, a Linear.
struct GELUFeedForward {
    let first: Linear, second: Linear

    init(first: WeightPath, second: WeightPath, in inFeatures: Int, hidden: Int, out outFeatures: Int, bias: Bool) throws {
        self.first = try Linear(first, in: inFeatures, out: hidden, bias: bias)
        self.second = try Linear(second, in: hidden, out: outFeatures, bias: bias)
    }

    /// The layers' widths from the stored `first`/`second` weights, nil when either is missing.
    static func storedWidths(first: WeightPath, second: WeightPath) -> (in: Int, hidden: Int, out: Int)? {
        guard let a = first.storedShape("weight"), a.count == 2,
              let b = second.storedShape("weight"), b.count == 2 else { return nil }
        return (a[1], a[0], b[0])
    }

    func callAsFunction(_ x: Tensor) -> Tensor { second(first(x).gelu()) }
}
