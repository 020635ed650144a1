import Sampling

/// Everything one generation depends on, as a person states it: prompts, sampler, steps,
/// guidance, seed or noise file, size, the start image or strength, and the person (reference
/// photos with their crops, PhotoVerse's knobs). The CLI's options and the TUI's settings are
/// editors of this one value; the pipeline validates it, prepares its files and runs it; the
/// PNG's `photoverse` record is this value, so reloading a result reruns it bit for bit.
public struct GenerationRequest: Codable, Equatable, Sendable {
    public var prompt: String
    public var negativePrompt = ""
    public var steps = 25
    /// s_T, classifier-free guidance on the prompt; guidance runs only when it is above 1.
    public var guidance: Float = 7.5
    public var sampler: SamplerKind = .ddim
    /// Draws the initial noise exactly as PyTorch's CPU `torch.randn` after `manual_seed(seed)`.
    public var seed: UInt64 = 0
    public var width = 512
    public var height = 512
    /// A safetensors file whose tensor `latents` (unscaled standard-normal noise) replaces the seed's.
    public var noiseFile: String?
    /// img2img: a PNG/JPEG of exactly width x height to start from.
    public var initImage: String?
    /// img2img: the fraction of the schedule to run, in (0, 1]. With references and no
    /// `initImage`, the start is the first reference's crop (the paper's image-to-image trick).
    public var strength: Double?
    /// The person; no references means plain text-to-image.
    public var identity = IdentitySettings()
    /// The model it ran on (a folder, or a single-file checkpoint with `configFolder`): recorded
    /// so that a result names its model; the front end decides which model to load.
    public var model: String?
    public var configFolder: String?
    /// LoRA files (kohya or diffusers/peft layout), each at its own scale, in order.
    public var loras: [LoRAChoice] = []
    /// The final decode (the model's VAE, or TAESD) and each step's preview; `taesd` names the
    /// TAESD folder used (recorded like `model`: the front end locates and loads it).
    public var decoder: FinalDecoder = .full
    public var preview: PreviewDecoder = .auto
    public var taesd: String?

    public init(prompt: String) { self.prompt = prompt }

    public var isPersonalized: Bool { !identity.references.isEmpty || identity.faceEmbedding != nil }
}

extension SamplerKind: Codable {}
