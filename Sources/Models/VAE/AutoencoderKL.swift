import TensorCore

/// diffusers' `AutoencoderKL`: pixels ↔ latents, built from its config.
public struct AutoencoderKL {
    public let config: VAEConfig
    let encoder: VAEEncoder
    let quantConv: Conv2d
    let postQuantConv: Conv2d
    let decoder: VAEDecoder

    public init(config: VAEConfig, weights path: WeightPath) throws {
        self.config = config
        let l = config.latentChannels
        encoder = try VAEEncoder(path("encoder"), config: config)
        quantConv = try Conv2d(path("quant_conv"), in: 2 * l, out: 2 * l, kernel: 1)
        postQuantConv = try Conv2d(path("post_quant_conv"), in: l, out: l, kernel: 1)
        decoder = try VAEDecoder(path("decoder"), config: config)
    }

    /// The latent distribution's mean and log-variance for an image in [-1, 1].
    public func encode(_ image: Tensor) -> (mean: Tensor, logVariance: Tensor) {
        try! encode(image, stop: nil)   // without a stop flag nothing can throw
    }

    /// As above, checking `stop` between layers (throws `ForwardStopped`).
    public func encode(_ image: Tensor, stop: StopFlag?) throws -> (mean: Tensor, logVariance: Tensor) {
        let moments = quantConv(try encoder(image, stop: stop))
        let parts = moments.chunked(2, axis: 1)
        // diffusers clamps the log-variance to [-30, 20].
        return (parts[0], parts[1].map { min(max($0, -30), 20) })
    }

    /// Decodes latents that are already divided by `scalingFactor`; output ≈ [-1, 1].
    public func decode(_ latents: Tensor) -> Tensor { try! decode(latents, stop: nil) }

    /// As above, checking `stop` between layers (throws `ForwardStopped`).
    public func decode(_ latents: Tensor, stop: StopFlag?) throws -> Tensor {
        try decoder(postQuantConv(latents), stop: stop)
    }
}
