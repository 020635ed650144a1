import Foundation
import Formats
import Models
import Sampling
import TensorCore
import Tokenizer

/// Stable Diffusion 1.x generation on a diffusers model folder: tokenize, encode, denoise
/// with guidance (all guidance rows in one UNet batch), decode. With an identity encoder
/// (PhotoVerse adapter + image encoder) a request may carry reference faces: `S*` in the
/// prompt becomes the pseudo-words and every cross-attention also attends to the image tokens.
public final class GenerationPipeline {
    public let textEncoder: CLIPTextModel
    public let unet: UNet2DConditionModel
    public let vae: AutoencoderKL
    /// The step preview's latent-to-RGB map (`vae/latent_preview.json`, else SD's for 4
    /// channels); nil when the model has none (its previews then decode with the VAE).
    public let latentPreview: LatentPreview?
    public let tokenizer: CLIPTokenizer
    public let schedulerConfig: SchedulerConfig
    /// Present when the model has a PhotoVerse (or IP-Adapter) adapter and its image encoder.
    public private(set) var identity: IdentityEncoder?
    var promptCache = PromptCache(capacity: 64)
    /// What was loaded: the model folder or single file, and the folder with its components'
    /// configs (the model folder itself, or a single file's config folder).
    public let origin: URL
    let componentsFolder: URL
    /// An adapter loaded for a request (`IdentitySettings.adapter`), not the model's own.
    var loadedAdapterPath: String?
    /// LoRA files read for earlier requests, by path, with the size and date they had: a run
    /// with other scales reuses them (the scales apply at run time, see `LayerDeltas`).
    var loraFiles: [String: (file: LoRAFile, stamp: FileStamp)] = [:]
    /// The tiny autoencoder (TAESD) the front end handed in, and its folder (`useTinyAutoencoder`).
    public internal(set) var tinyAutoencoder: AutoencoderTiny?
    public internal(set) var tinyAutoencoderFolder: URL?

    /// The face detector and mesh for automatic reference crops (located by the front end).
    public let faces: FaceModels

    public init(modelFolder url: URL, faces: FaceModels) throws {
        self.faces = faces
        origin = url
        componentsFolder = url
        let folder = try ModelFolder(url)
        tokenizer = try folder.loadTokenizer()
        textEncoder = try folder.loadTextEncoder()
        unet = try folder.loadUNet()
        vae = try folder.loadVAE()
        try Self.checkCompatible(textEncoder, unet, vae, origin: url)
        latentPreview = try LatentPreview.forModel(vaeFolder: folder.component("vae"), latentChannels: vae.config.latentChannels)
        schedulerConfig = try SchedulerConfig.load(from: folder.component("scheduler").appendingPathComponent("scheduler_config.json"))
        if let adapter = folder.adapterFile, folder.hasImageEncoder {
            try loadIdentity(adapter: adapter, imageEncoderFolder: folder.url)
        }
    }

    /// A single-file original-layout checkpoint; configs, tokenizer and scheduler come
    /// from `configFolder` (a diffusers-layout folder, weights not needed there).
    public init(singleFile url: URL, configFolder: URL, faces: FaceModels) throws {
        self.faces = faces
        origin = url
        componentsFolder = configFolder
        let folder = try ModelFolder(configFolder)
        let checkpoint = try SingleFileCheckpoint(url: url)
        tokenizer = try folder.loadTokenizer()
        textEncoder = try checkpoint.loadTextEncoder(config: try folder.config(CLIPTextConfig.self, of: "text_encoder"))
        unet = try checkpoint.loadUNet(config: try folder.config(UNetConfig.self, of: "unet"))
        vae = try checkpoint.loadVAE(config: try folder.config(VAEConfig.self, of: "vae"))
        try Self.checkCompatible(textEncoder, unet, vae, origin: url)
        // the config folder's map: right when its VAE is the checkpoint's (SD1.x's 4-channel map otherwise)
        latentPreview = try LatentPreview.forModel(vaeFolder: folder.component("vae"), latentChannels: vae.config.latentChannels)
        schedulerConfig = try SchedulerConfig.load(from: folder.component("scheduler").appendingPathComponent("scheduler_config.json"))
    }

    /// Loads an adapter file and the image encoder it needs: `imageEncoderFolder` is a model
    /// folder with `image_encoder/`, or the encoder's own folder (config.json + safetensors).
    /// IP-Adapter FaceID needs none (it reads an ArcFace embedding): the folder is not read.
    public func loadIdentity(adapter url: URL, imageEncoderFolder: URL) throws {
        let adapter = try PhotoVerseAdapter.load(url, for: unet)
        if let text = adapter.textAdapter, text.outFeatures != textEncoder.config.hiddenSize {
            throw ModelError.invalidInput("\(url.path): text adapter makes \(text.outFeatures)-wide pseudo-words; the text encoder is \(textEncoder.config.hiddenSize) wide")
        }
        var vision: CLIPVisionModel?
        if adapter.ipAdapter?.variant.needsImageEncoder ?? true {
            let folder = try ModelFolder(imageEncoderFolder)
            guard let component = folder.imageEncoderComponent else {
                throw ModelError.missingFile("\(folder.url.path): no image encoder (image_encoder/config.json + safetensors) for \(url.lastPathComponent)")
            }
            vision = try folder.loadImageEncoder(withProjection: adapter.ipAdapter?.variant.needsVisualProjection ?? false,
                                                 component: component)
        }
        identity = try IdentityEncoder(vision: vision, adapter: adapter)
        loadedAdapterPath = url.path
        promptCache.removeAll()
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

    /// Text embeddings [1, 77, D] of a prompt; with pseudo-words, each `S*` becomes
    /// S_1..S_m at the token-embedding level. Cached per prompt, pseudo-words and text-encoder LoRAs.
    func encode(_ text: String, pseudoWords: Tensor? = nil, placeholder: String = "S*", lora: TextEncoderLoRA = .none) -> Tensor {
        let key = PromptCache.Key(text: text, pseudoWords: pseudoWords, lora: lora.key)
        if let cached = promptCache[key] { return cached }
        let length = textEncoder.config.maxPositionEmbeddings
        let embedding: Tensor
        if let pseudoWords, text.contains(placeholder) {
            let tokens = tokenizer.tokenize(text, placeholder: placeholder, slots: pseudoWords.shape[1], length: length)
            embedding = textEncoder.encode(tokens, pseudoWords: pseudoWords, deltas: lora.deltas)
        } else {
            embedding = textEncoder([tokenizer.tokenize(text, length: length)], deltas: lora.deltas)
        }
        promptCache[key] = embedding
        return embedding
    }

    /// Runs the request; `progress` is called after every step and may return false to cancel.
    /// `stop`, raised from another thread, interrupts the work between layers (inside a step or
    /// the decode). Either way the run ends with `GenerationCancelled`, naming the last step done.
    public func generate(_ request: PreparedRequest, stop: StopFlag? = nil,
                         progress: (StepProgress) -> Bool = { _ in true }) throws -> GenerationResult {
        var stepsDone = 0, total = request.steps
        do {
            return try run(request, stop: stop, progress: progress) { done, all in
                stepsDone = done
                total = all
            }
        } catch is ForwardStopped {
            throw GenerationCancelled(step: stepsDone, total: total)
        }
    }

    private func run(_ request: PreparedRequest, stop: StopFlag?, progress: (StepProgress) -> Bool,
                     stepsDone: (Int, Int) -> Void) throws -> GenerationResult {
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
            let (mean, logVariance) = try vae.encode(image, stop: stop)
            let sample = mean + logVariance.map { expf(0.5 * $0) } * random.normalTensor(shape: mean.shape)
            initLatents = sample * vae.config.scalingFactor
        }
        let noise = request.noise ?? random.normalTensor(shape: latentShape)
        guard noise.shape == latentShape else {
            throw ModelError.invalidInput("noise has shape \(noise.shape), expected \(latentShape) for \(request.width)x\(request.height)")
        }
        var deltas = LoRAFile.deltas(request.loras)
        // FaceID's companion LoRA is part of the adapter: it runs whenever the adapter does.
        if request.personalization != nil { identity?.adapter.addCompanionLoRA(to: &deltas.unet) }
        let plan = try conditioningPlan(request, lora: TextEncoderLoRA(request.loras, deltas: deltas.textEncoder))
        let previewMaker = try previewMaker(request.preview, width: request.width, height: request.height)
        var latents = initLatents.map { scheduler.addNoise(original: $0, noise: noise, stepIndex: startIndex) }
            ?? noise * scheduler.initNoiseSigma
        let start = Date()
        let total = scheduler.timesteps.count - startIndex
        stepsDone(0, total)
        try stop?.check()
        // The denoising loop allocates the same large tensors every step: their pages are reused.
        try LargeBlockCache.reusingFreedBuffers {
            for (index, timestep) in scheduler.timesteps.enumerated() where index >= startIndex {
                if let personalization = request.personalization {
                    plan.conditioning.imageWeight = personalization.imageBranchActive(step: index - startIndex, of: total)
                        ? personalization.imageWeight : 0
                }
                let input = Tensor.concat(Array(repeating: latents, count: plan.guidance.rows), axis: 0)
                let prediction = try unet(scheduler.scaleModelInput(input, stepIndex: index), timestep: timestep,
                                          conditioning: plan.conditioning, stop: stop, deltas: deltas.unet)
                let epsilon = plan.guidance.combine(prediction)
                let stepped = scheduler.step(modelOutput: epsilon, stepIndex: index, sample: latents, random: random)
                latents = stepped.prevSample
                // Overflowing weights or settings would otherwise end as a black image.
                guard latents.isAllFinite else {
                    throw InvalidRequest("step \(index - startIndex + 1)/\(total) produced non-finite latents (NaN or infinity): the model's weights or the settings overflow (photoverse inspect checks the weights)")
                }
                let event = StepProgress(step: index - startIndex + 1, total: total,
                                         elapsed: Date().timeIntervalSince(start), latents: latents,
                                         predictedClean: stepped.predOriginalSample, previewMaker: previewMaker)
                stepsDone(event.step, total)
                if !progress(event) || stop?.isRaised == true { throw GenerationCancelled(step: event.step, total: total) }
            }
        }
        // The UNet's widened-weight scratch (up to 118 MB for SD1.5) is not needed by the decode.
        LayerWeight.releaseScratch()
        let image = try decodeFinal(latents, with: request.decoder, stop: stop)
        return GenerationResult(latents: latents, image: image)
    }

    struct ConditioningPlan {
        let guidance: GuidanceBatch
        let conditioning: CrossAttentionConditioning
    }

    /// The UNet batch rows for the request: texts, image tokens, adapters and weights.
    func conditioningPlan(_ request: PreparedRequest, lora: TextEncoderLoRA = .none) throws -> ConditioningPlan {
        guard let personalization = request.personalization else {
            let guidance = GuidanceBatch(promptScale: request.guidance, identityScale: nil)
            let rows = guidance.rows == 1 ? [encode(request.prompt, lora: lora)]
                : [encode(request.negativePrompt, lora: lora), encode(request.prompt, lora: lora)]
            return ConditioningPlan(guidance: guidance, conditioning: CrossAttentionConditioning(text: Tensor.concat(rows, axis: 0)))
        }
        guard let identity else {
            throw ModelError.invalidInput("this model has no PhotoVerse adapter and image encoder: give --adapter FILE or drop --reference")
        }
        let encoded = try identity.encode(personalization.references, faceEmbedding: personalization.faceEmbedding,
                                          shortcutScale: personalization.shortcutScale)
        let metadata = identity.adapter.metadata
        var pseudoWords: Tensor?
        if let words = encoded.pseudoWords {
            let m = personalization.pseudoWords ?? metadata.defaultPseudoWords
            guard m >= 1, m <= words.shape[1] else {
                throw ModelError.invalidInput("pseudo-words m = \(m) is outside 1...\(words.shape[1]) (the adapter's layers)")
            }
            pseudoWords = words.slice(axis: 1, start: 0, length: m)
        }
        let guidance = GuidanceBatch(promptScale: request.guidance, identityScale: personalization.identityGuidance)
        let unconditionalImage = encoded.unconditionalImageTokens[personalization.unconditionalImage ?? metadata.unconditionalImage]
        let full = encode(request.prompt, pseudoWords: pseudoWords, placeholder: metadata.placeholder, lora: lora)
        var texts: [Tensor] = [], tokens: [Tensor?] = []
        switch guidance {
        case .unguided:
            texts = [full]
            tokens = [encoded.imageTokens]
        case .twoPass:
            texts = [encode(request.negativePrompt, lora: lora), full]
            tokens = [unconditionalImage, encoded.imageTokens]
        case .threeTerm:
            texts = [encode(request.negativePrompt, lora: lora),
                     encode(metadata.identityPrompt, pseudoWords: pseudoWords, placeholder: metadata.placeholder, lora: lora), full]
            tokens = [unconditionalImage, encoded.imageTokens, encoded.imageTokens]
        }
        let imageTokens = tokens.allSatisfy({ $0 != nil }) ? Tensor.concat(tokens.map { $0! }, axis: 0) : nil
        let conditioning = CrossAttentionConditioning(
            text: Tensor.concat(texts, axis: 0), imageTokens: imageTokens, adapters: identity.adapter.layers,
            textWeight: personalization.textWeight, imageWeight: personalization.imageWeight,
            loraScale: personalization.loraScale)
        return ConditioningPlan(guidance: guidance, conditioning: conditioning)
    }
}
