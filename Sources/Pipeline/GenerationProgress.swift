import TensorCore

/// Progress after each denoising step.
public struct StepProgress {
    public let step: Int          // 1-based
    public let total: Int
    public let elapsed: Double    // seconds since the first step began
    public let latents: Tensor
    /// The step's estimate of the finished latents (x₀): what the image will become. The noisy
    /// `latents` look like noise for most of a run; x₀ shows the picture from the first steps.
    public let predictedClean: Tensor

    /// Draws the preview of x₀ (see `preview`), as the request's `PreviewDecoder` chose; nil for none.
    let previewMaker: ((Tensor) -> Tensor)?

    /// An RGB preview [1, 3, h, w] in [0, 1] of x₀: through TAESD when the pipeline has one, by
    /// the model's VAE when that is cheap (a small VAE at a small size, e.g. PhotoVerse-mini), or
    /// the latent projection at latent resolution, as the request asked (`PreviewDecoder`); nil
    /// when it asked for none. Computed only when read (the CLI reads it only for --preview-dir).
    public var preview: Tensor? { previewMaker?(predictedClean) }

    public init(step: Int, total: Int, elapsed: Double, latents: Tensor, predictedClean: Tensor,
                previewMaker: ((Tensor) -> Tensor)?) {
        self.step = step
        self.total = total
        self.elapsed = elapsed
        self.latents = latents
        self.predictedClean = predictedClean
        self.previewMaker = previewMaker
    }

    public var secondsPerStep: Double { elapsed / Double(max(step, 1)) }
    public var remaining: Double { secondsPerStep * Double(total - step) }
}

/// The finished generation: final latents (before decoding) and the image tensor in [0, 1].
public struct GenerationResult {
    public let latents: Tensor
    public let image: Tensor
}

/// A run that was stopped (by its progress handler or its `StopFlag`) before it finished.
public struct GenerationCancelled: Error, CustomStringConvertible {
    /// Steps completed when it stopped, of `total`.
    public let step: Int
    public let total: Int

    public init(step: Int, total: Int) {
        self.step = step
        self.total = total
    }

    public var description: String { "stopped at step \(step)/\(total)" }
}
