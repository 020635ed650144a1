import Foundation
import Formats
import Models
import Sampling
import TensorCore
import Tokenizer

/// Stable Diffusion text-to-image on a diffusers model folder: tokenize, encode,
/// denoise with classifier-free guidance (cond and uncond in one UNet batch), decode.
public final class TextToImagePipeline {
    public let textEncoder: CLIPTextModel
    public let unet: UNet2DConditionModel
    public let vae: AutoencoderKL
    public let tokenizer: CLIPTokenizer
    public let schedulerConfig: SchedulerConfig
    private var promptCache: [String: Tensor] = [:]

    public init(modelFolder url: URL) throws {
        let folder = try ModelFolder(url)
        tokenizer = try CLIPTokenizer(folder: folder.component("tokenizer"))
        textEncoder = try folder.loadTextEncoder()
        unet = try folder.loadUNet()
        vae = try folder.loadVAE()
        try Self.checkCompatible(textEncoder, unet, vae, origin: url)
        schedulerConfig = try SchedulerConfig.load(from: folder.component("scheduler").appendingPathComponent("scheduler_config.json"))
    }

    /// A single-file original-layout checkpoint; configs, tokenizer and scheduler come
    /// from `configFolder` (a diffusers-layout folder, weights not needed there).
    public init(singleFile url: URL, configFolder: URL) throws {
        let folder = try ModelFolder(configFolder)
        let checkpoint = try SingleFileCheckpoint(url: url)
        tokenizer = try CLIPTokenizer(folder: folder.component("tokenizer"))
        textEncoder = try checkpoint.loadTextEncoder(config: try folder.config(CLIPTextConfig.self, of: "text_encoder"))
        unet = try checkpoint.loadUNet(config: try folder.config(UNetConfig.self, of: "unet"))
        vae = try checkpoint.loadVAE(config: try folder.config(VAEConfig.self, of: "vae"))
        try Self.checkCompatible(textEncoder, unet, vae, origin: url)
        schedulerConfig = try SchedulerConfig.load(from: folder.component("scheduler").appendingPathComponent("scheduler_config.json"))
    }

    /// The parts must agree on widths, or the first UNet call would fail deep inside.
    static func checkCompatible(_ text: CLIPTextModel, _ unet: UNet2DConditionModel, _ vae: AutoencoderKL, origin: URL) throws {
        if text.config.hiddenSize != unet.config.crossAttentionDim {
            throw ModelError.invalidInput("\(origin.path): text encoder width \(text.config.hiddenSize) does not match unet cross_attention_dim \(unet.config.crossAttentionDim)")
        }
        if vae.config.latentChannels != unet.config.inChannels {
            throw ModelError.invalidInput("\(origin.path): vae latent_channels \(vae.config.latentChannels) does not match unet in_channels \(unet.config.inChannels)")
        }
    }

    /// Text embeddings [1, 77, D], cached per prompt (re-runs with a new seed skip the encoder).
    func encode(_ text: String) -> Tensor {
        if let cached = promptCache[text] { return cached }
        let embedding = textEncoder([tokenizer.tokenize(text, length: textEncoder.config.maxPositionEmbeddings)])
        promptCache[text] = embedding
        return embedding
    }

    /// Runs the request; `progress` is called after every step and may return false to cancel.
    public func generate(_ request: GenerationRequest, progress: (StepProgress) -> Bool = { _ in true }) throws -> GenerationResult {
        let factor = vae.config.downscale
        guard request.width > 0, request.height > 0, request.width % factor == 0, request.height % factor == 0 else {
            throw ModelError.invalidInput("width and height must be positive multiples of \(factor), got \(request.width)x\(request.height)")
        }
        let latentShape = [1, unet.config.inChannels, request.height / factor, request.width / factor]
        let random = TorchRandomSource(seed: request.seed)
        let scheduler = request.sampler.makeScheduler(config: schedulerConfig)
        try scheduler.setTimesteps(request.steps)
        // img2img (diffusers' order of draws): sample the image's latent, then the noise.
        var startIndex = 0
        var initLatents: Tensor?
        if let image = request.initImage {
            guard image.shape == [1, vae.config.inChannels, request.height, request.width] else {
                throw ModelError.invalidInput("init image has shape \(image.shape), expected [1, 3, \(request.height), \(request.width)]")
            }
            startIndex = try scheduler.img2imgSchedule(strength: request.strength).startIndex
            let (mean, logVariance) = vae.encode(image)
            let sample = mean + logVariance.map { expf(0.5 * $0) } * random.normalTensor(shape: mean.shape)
            initLatents = sample * vae.config.scalingFactor
        }
        let noise = request.noise ?? random.normalTensor(shape: latentShape)
        guard noise.shape == latentShape else {
            throw ModelError.invalidInput("noise has shape \(noise.shape), expected \(latentShape) for \(request.width)x\(request.height)")
        }
        let guided = request.guidance > 1
        let context = guided ? Tensor.concat([encode(request.negativePrompt), encode(request.prompt)], axis: 0)
                             : encode(request.prompt)
        var latents = initLatents.map { scheduler.addNoise(original: $0, noise: noise, stepIndex: startIndex) }
            ?? noise * scheduler.initNoiseSigma
        let start = Date()
        let total = scheduler.timesteps.count - startIndex
        for (index, timestep) in scheduler.timesteps.enumerated() where index >= startIndex {
            let input = guided ? Tensor.concat([latents, latents], axis: 0) : latents
            let prediction = unet(scheduler.scaleModelInput(input, stepIndex: index), timestep: timestep,
                                  encoderHiddenStates: context)
            let epsilon: Tensor
            if guided {
                let halves = prediction.chunked(2, axis: 0)
                epsilon = Tensor.linearCombination(1 - request.guidance, halves[0], request.guidance, halves[1])
            } else {
                epsilon = prediction
            }
            latents = scheduler.step(modelOutput: epsilon, stepIndex: index, sample: latents, random: random).prevSample
            let event = StepProgress(step: index - startIndex + 1, total: total,
                                     elapsed: Date().timeIntervalSince(start), latents: latents)
            if !progress(event) { throw GenerationCancelled() }
        }
        let decoded = vae.decode(latents / vae.config.scalingFactor)
        let image = decoded.map { min(max($0 / 2 + 0.5, 0), 1) }
        return GenerationResult(latents: latents, image: image)
    }
}
