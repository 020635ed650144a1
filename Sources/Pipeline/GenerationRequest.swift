import Sampling
import TensorCore

/// Everything one text-to-image generation needs; the front ends fill it in.
public struct GenerationRequest {
    public var prompt: String
    public var negativePrompt = ""
    public var steps = 25
    /// Classifier-free guidance scale; guidance runs only when it is above 1.
    public var guidance: Float = 7.5
    public var sampler: SamplerKind = .ddim
    public var seed: UInt64 = 0
    public var width = 512
    public var height = 512
    /// Unscaled standard-normal initial latents [1, C, H/f, W/f]; replaces the seeded noise.
    public var noise: Tensor?
    /// img2img: a start image [1, 3, H, W] in [-1, 1]; nil for text-to-image.
    public var initImage: Tensor?
    /// img2img: how much of the schedule to run (0 < strength ≤ 1; 1 ignores the image's content).
    public var strength: Double = 0.75
    /// Reference faces and PhotoVerse's knobs; nil for plain text-to-image.
    public var personalization: Personalization?

    public init(prompt: String) { self.prompt = prompt }
}

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
