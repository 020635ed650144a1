import ArgumentParser
import Foundation
import Pipeline
import Sampling

/// The options that describe a request, shared by `generate` and `sweep`: each edits one
/// field of a fresh request, or of the one a result's PNG carries (--load).
struct RequestOptions: ParsableArguments {
    @Option(help: "Rerun a result: start from the request in this PhotoVerse PNG (other options change it; --model defaults to its model).") var load: String?
    @Option(help: "Model folder (diffusers layout), or a single-file SD1.x .safetensors checkpoint.") var model: String?
    @Option(help: "For a single-file --model: a diffusers folder with the configs, tokenizer and scheduler.") var config: String?
    @Option(help: "The prompt.") var prompt: String?
    @Option(help: "What the image should not show.") var negativePrompt: String?
    @Option(help: "Denoising steps (1...1000; default 25).") var steps: Int?
    @Option(help: "Classifier-free guidance scale (1 = off; default 7.5).") var guidance: Float?
    @Option(help: "Sampler: \(SamplerKind.cliNames) (default ddim).") var scheduler: SamplerKind?
    @Option(help: "Seed (PyTorch-compatible noise: the same seed gives diffusers' latents; default 0).") var seed: UInt64?
    @Option(help: "Width in pixels (a multiple of the VAE factor, at most 2048; default: the model's size).") var width: Int?
    @Option(help: "Height in pixels.") var height: Int?
    @Option(help: "safetensors file with tensor 'latents': unscaled initial noise, replaces the seed.") var noise: String?
    @Option(help: "img2img: start from this PNG/JPEG (resized is not done: it must be --width x --height).") var initImage: String?
    @Option(name: .customLong("lora"), help: "A LoRA file (kohya/A1111 or diffusers/peft safetensors) and its scale, FILE[:SCALE] (default scale 1); repeat for several, each with its own scale. Replaces a --load request's list.") var loras: [String] = []
    @Option(help: "A fast preset: lcm = the LCM-LoRA settings (--scheduler lcm --steps 4 --guidance 1.5, each unless given); give the LCM-LoRA file with --lora.") var preset: Preset?
    @Option(help: "img2img: fraction of the schedule to run, in (0, 1] (default 0.75). With --reference and no --init-image: start from the reference's crop (the paper's image-to-image trick).") var strength: Double?

    // PhotoVerse personalization.
    @Option(name: .customLong("reference"), help: "A photo of the person's face (PNG/JPEG); repeat for several photos of one person (features averaged).") var references: [String] = []
    @Option(help: "Adapter file: PhotoVerse layout, IP-Adapter SD1.5 (plain, Plus, Plus-Face, Full-Face, FaceID, FaceID-Plus, Plus-v2; IP-Adapter's or diffusers' names), or a converted ELITE mapper (default: the model's photoverse-adapter.safetensors).") var adapter: String?
    @Option(help: "Image encoder folder for --adapter (config.json + safetensors, or a folder with image_encoder/; default: the model's).") var imageEncoder: String?
    @Option(help: "Face crop: auto (detect the face, enlarge 1.3x), none (whole image), or x,y,w,h in pixels. Default: auto, none for the model's own references/ faces.") var crop: String?
    @Option(help: "γ: weight of the text attention (more = follows the prompt; default 1).") var textWeight: Float?
    @Option(help: "σ: weight of the image attention (more = more like the reference; 0 = off; default 1).") var imageWeight: Float?
    @Option(help: "α: LoRA scale on the text keys/values (0 = base model's; default 1).") var loraScale: Float?
    @Option(help: "m: pseudo-words that replace S* (1 ... the adapter's layers; default 1).") var tokens: Int?
    @Option(help: "Image branch active from this fraction of the steps on (default 0).") var imageStart: Double?
    @Option(help: "Image branch active until this fraction of the steps (default 1).") var imageEnd: Double?
    @Option(help: "s_I: identity guidance scale (default: --guidance, i.e. ordinary two-pass guidance).") var identityGuidance: Float?
    @Option(help: "IP-Adapter FaceID / FaceID-Plus: the face's ArcFace embedding (.npy or .safetensors, [512] or [1, 512], insightface's normed_embedding).") var faceEmbedding: String?
    @Option(help: "IP-Adapter FaceID-Plus-v2: turn the shortcut on with this scale (default: off, plain FaceID-Plus).") var shortcutScale: Float?

    // Decoding: TAESD, the tiny autoencoder.
    @Option(help: "Final decode: full (the model's VAE) or taesd (the tiny autoencoder: far less work, a little softer; default full).") var decoder: FinalDecoder?
    @Option(help: "Step previews (generate --preview-dir, the TUI): auto (TAESD if there is one, else the VAE if small, else the latent projection), taesd, latent (the model's vae/latent_preview.json, or SD's map for 4-channel latents; refused for a model with neither), vae, none (default auto).") var preview: PreviewDecoder?
    @Option(help: "TAESD folder (diffusers AutoencoderTiny: config.json + diffusion_pytorch_model.safetensors; default: the model folder's taesd/).") var taesd: String?

    /// The request these options describe: --load's, or a fresh one, with every option given applied.
    func edited() throws -> GenerationRequest {
        var request: GenerationRequest
        if let load {
            request = try GenerationRequest.load(from: URL(fileURLWithPath: load))
        } else {
            guard let prompt else { throw UserFacingError("--prompt is required (or --load FILE.png to rerun a result)") }
            request = GenerationRequest(prompt: prompt)
        }
        if let model {
            request.model = model
            request.configFolder = config
        } else if let config {
            request.configFolder = config
        }
        guard let modelPath = request.model else { throw UserFacingError("--model is required") }
        if let preset { preset.apply(to: &request) }
        if let prompt { request.prompt = prompt }
        if let negativePrompt { request.negativePrompt = negativePrompt }
        if let steps { request.steps = steps }
        if let guidance { request.guidance = guidance }
        if let scheduler { request.sampler = scheduler }
        if let seed { request.seed = seed }
        if let width { request.width = width }
        if let height { request.height = height }
        if let noise { request.noiseFile = noise }
        if let initImage { request.initImage = initImage }
        if let strength { request.strength = strength }
        if !loras.isEmpty { request.loras = try loras.map(LoRAChoice.init(argument:)) }
        if let decoder { request.decoder = decoder }
        if let preview { request.preview = preview }
        if let taesd { request.taesd = taesd }
        // A fresh img2img run without --strength uses diffusers' default.
        if load == nil, initImage != nil, strength == nil { request.strength = 0.75 }
        let modelURL = URL(fileURLWithPath: modelPath)
        let chosenCrop = try crop.map { try CropMode(parsing: $0) }
        if !references.isEmpty {
            request.identity.references = references.map {
                ReferenceSource(path: $0, crop: chosenCrop ?? ReferenceSource.defaultCrop(for: $0, model: modelURL))
            }
        } else if let chosenCrop {
            for index in request.identity.references.indices { request.identity.references[index].crop = chosenCrop }
        }
        var identity = request.identity
        if let adapter { identity.adapter = adapter }
        if let imageEncoder { identity.imageEncoder = imageEncoder }
        if let textWeight { identity.textWeight = textWeight }
        if let imageWeight { identity.imageWeight = imageWeight }
        if let loraScale { identity.loraScale = loraScale }
        if let tokens { identity.pseudoWords = tokens }
        if let imageStart { identity.imageStart = imageStart }
        if let imageEnd { identity.imageEnd = imageEnd }
        if let identityGuidance { identity.identityGuidance = identityGuidance }
        if let faceEmbedding { identity.faceEmbedding = faceEmbedding }
        if let shortcutScale { identity.shortcutScale = shortcutScale }
        request.identity = identity
        if !request.isPersonalized, adapter != nil || imageEncoder != nil {
            throw UserFacingError("--adapter and --image-encoder need at least one --reference photo (or --face-embedding for IP-Adapter FaceID)")
        }
        return request
    }
}
