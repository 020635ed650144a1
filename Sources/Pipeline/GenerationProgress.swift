import TensorCore

/// Progress after each denoising step.
public struct StepProgress {
    public let step: Int          // 1-based
    public let total: Int
    public let elapsed: Double    // seconds since the first step began
    public let latents: Tensor

    /// A cheap RGB preview [1, 3, h, w] in [0, 1] at latent resolution (no VAE).
    public var preview: Tensor { LatentPreview.project(latents) }

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
