import TensorCore

/// One block of IP-Adapter's perceiver (diffusers `IPAdapterPlusImageProjectionBlock`): the
/// latents attend to the image features and to themselves, then a feed-forward; both residual.
/// Heads are 64 wide, as IP-Adapter and diffusers' converter assume.
struct ResamplerBlock {
    let featureNorm: LayerNorm, latentNorm: LayerNorm
    let query: Linear, key: Linear, value: Linear, output: Linear
    let feedForwardNorm: LayerNorm
    let feedForward: GELUFeedForward
    let heads: Int

    static let headWidth = 64

    /// `path` is `layers.{i}` of the projection. Published names: `0.norm1` (features),
    /// `0.norm2` (latents), `0.to_q`, `0.to_kv` (keys then values), `0.to_out`, `1.0` (norm),
    /// `1.1`, `1.3`; diffusers': `ln0`, `ln1`, `attn.to_q/to_k/to_v/to_out.0`, `ff.0`,
    /// `ff.1.net.0.proj`, `ff.1.net.2`.
    init(_ path: WeightPath, layout: IPAdapterLayout, width: Int, origin: String) throws {
        let published = layout == .published
        let attention = published ? path("0") : path("attn")
        guard let q = attention("to_q").storedShape("weight"), q.count == 2, q[0] % Self.headWidth == 0 else {
            throw ModelError.invalidInput("\(origin): \(attention("to_q").prefix).weight is missing or not [heads·64, \(width)]")
        }
        let inner = q[0]
        heads = inner / Self.headWidth
        featureNorm = try LayerNorm(published ? attention("norm1") : path("ln0"), features: width, eps: 1e-5)
        latentNorm = try LayerNorm(published ? attention("norm2") : path("ln1"), features: width, eps: 1e-5)
        query = try Linear(attention("to_q"), in: width, out: inner, bias: false)
        if published {
            let keyValue = try attention("to_kv").tensor("weight", [2 * inner, width])
            key = Linear(weight: keyValue.slice(axis: 0, start: 0, length: inner), bias: nil)
            value = Linear(weight: keyValue.slice(axis: 0, start: inner, length: inner), bias: nil)
        } else {
            key = try Linear(attention("to_k"), in: width, out: inner, bias: false)
            value = try Linear(attention("to_v"), in: width, out: inner, bias: false)
        }
        output = try Linear(published ? attention("to_out") : attention("to_out")(0), in: inner, out: width, bias: false)
        let ff = published ? path("1") : path("ff")
        feedForwardNorm = try LayerNorm(ff("0"), features: width, eps: 1e-5)
        let first = published ? ff("1") : ff("1")("net")("0")("proj"), second = published ? ff("3") : ff("1")("net")("2")
        guard let widths = GELUFeedForward.storedWidths(first: first, second: second) else {
            throw ModelError.invalidInput("\(origin): \(first.prefix).weight or \(second.prefix).weight is missing")
        }
        feedForward = try GELUFeedForward(first: first, second: second, in: width, hidden: widths.hidden, out: width, bias: false)
    }

    /// features [N, S, width] (already `proj_in`), latents [N, Q, width] → latents [N, Q, width].
    func callAsFunction(features: Tensor, latents: Tensor) -> Tensor {
        let normed = latentNorm(latents)
        let context = Tensor.concat([featureNorm(features), normed], axis: 1)
        let attended = Attention.scaledDotProduct(query: query(normed), key: key(context), value: value(context), heads: heads)
        let h = output(attended) + latents
        return feedForward(feedForwardNorm(h)) + h
    }

    /// Number of blocks stored under `layers` (`layers.0`, `layers.1`, ...).
    static func storedCount(_ layers: WeightPath, layout: IPAdapterLayout) -> Int {
        var count = 0
        while layers(count)(layout == .published ? "0" : "attn")("to_q").storedShape("weight") != nil { count += 1 }
        return count
    }
}
