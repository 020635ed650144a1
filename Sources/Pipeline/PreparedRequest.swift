import Models
import Sampling
import TensorCore

/// A generation with its inputs in hand: tensors and prepared faces instead of file names.
/// The pipeline prepares one from a `GenerationRequest`; tests build them directly.
public struct PreparedRequest {
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
    /// LoRA files read and checked against the model, each with the request's scale.
    public var loras: [(file: LoRAFile, scale: Float)] = []
    /// The final decode and the step previews (`taesd` needs the pipeline's TAESD).
    public var decoder: FinalDecoder = .full
    public var preview: PreviewDecoder = .auto
    /// What preparing the request found worth telling (a reference's face box, an unused `S*`).
    public var notes: [String] = []

    public init(prompt: String) { self.prompt = prompt }
}

