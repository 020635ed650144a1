import ArgumentParser
import Foundation
import Formats
import Models
import Pipeline
import Sampling
import TensorCore

extension SamplerKind: ExpressibleByArgument {
    /// CLI spellings use dashes: ddim, euler, euler-a, dpmpp-2m-karras, dpmpp-2m, lcm.
    public init?(argument: String) { self.init(rawValue: argument.replacingOccurrences(of: "-", with: "_")) }
    static var cliNames: String { allCases.map { $0.rawValue.replacingOccurrences(of: "_", with: "-") }.joined(separator: "|") }
}

/// Headless generation for scripts and tests.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate an image headless (for scripts).")

    @Option(help: "Model folder (diffusers layout), or a single-file SD1.x .safetensors checkpoint.") var model: String
    @Option(help: "For a single-file --model: a diffusers folder with the configs, tokenizer and scheduler.") var config: String?
    @Option(help: "The prompt.") var prompt: String
    @Option(help: "What the image should not show.") var negativePrompt = ""
    @Option(help: "Denoising steps.") var steps = 25
    @Option(help: "Classifier-free guidance scale (1 = off).") var guidance: Float = 7.5
    @Option(help: "Sampler: \(SamplerKind.cliNames).") var scheduler: SamplerKind = .ddim
    @Option(help: "Seed (PyTorch-compatible noise: the same seed gives diffusers' latents).") var seed: UInt64 = 0
    @Option(help: "Width in pixels (a multiple of the VAE factor).") var width: Int?
    @Option(help: "Height in pixels.") var height: Int?
    @Option(help: "safetensors file with tensor 'latents': unscaled initial noise, replaces the seed.") var noise: String?
    @Option(help: "Write the final latents (tensor 'latents') to this safetensors file.") var latentsOut: String?
    @Option(help: "img2img: start from this PNG/JPEG (resized is not done: it must be --width x --height).") var initImage: String?
    @Option(help: "img2img: fraction of the schedule to run, in (0, 1] (default 0.75). With --reference and no --init-image: start from the noised reference (the paper's image-to-image trick).") var strength: Double?
    @Option(help: "Output PNG (never overwritten; default: a new numbered file in ./out).") var out: String?

    // PhotoVerse personalization.
    @Option(name: .customLong("reference"), help: "A photo of the person's face (PNG/JPEG); repeat for several photos of one person (features averaged).") var references: [String] = []
    @Option(help: "Adapter file: PhotoVerse layout, IP-Adapter SD1.5, or a converted ELITE mapper (default: the model's photoverse-adapter.safetensors).") var adapter: String?
    @Option(help: "Image encoder folder for --adapter (config.json + safetensors, or a folder with image_encoder/; default: the model's).") var imageEncoder: String?
    @Option(help: "Face crop: auto (detect the face, enlarge 1.3x), none (whole image), or x,y,w,h in pixels. Default: auto, none for the model's own references/ faces.") var crop: String?
    @Option(help: "γ: weight of the text attention (more = follows the prompt).") var textWeight: Float = 1
    @Option(help: "σ: weight of the image attention (more = more like the reference; 0 = off).") var imageWeight: Float = 1
    @Option(help: "α: LoRA scale on the text keys/values (0 = base model's).") var loraScale: Float = 1
    @Option(help: "m: pseudo-words that replace S* (1 ... the adapter's layers; default 1).") var tokens: Int?
    @Option(help: "Image branch active from this fraction of the steps on.") var imageStart: Double = 0
    @Option(help: "Image branch active until this fraction of the steps.") var imageEnd: Double = 1
    @Option(help: "s_I: identity guidance scale (default: --guidance, i.e. ordinary two-pass guidance).") var identityGuidance: Float?

    func run() throws {
        do {
            try generate()
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("photoverse generate: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    private func generate() throws {
        guard steps >= 1 else { throw UserFacingError("--steps must be at least 1, got \(steps)") }
        if let out, FileManager.default.fileExists(atPath: out) {
            throw UserFacingError("\(out): already exists; choose another --out (results are never overwritten)")
        }
        if let latentsOut, FileManager.default.fileExists(atPath: latentsOut) {
            throw UserFacingError("\(latentsOut): already exists; choose another --latents-out")
        }
        let modelURL = URL(fileURLWithPath: model)
        let pipeline: GenerationPipeline
        if ["safetensors", "ckpt", "pt", "pth", "bin"].contains(modelURL.pathExtension) {
            guard let config else {
                throw UserFacingError("\(model): a single-file checkpoint needs --config DIR (a diffusers folder with the configs and tokenizer)")
            }
            pipeline = try GenerationPipeline(singleFile: modelURL, configFolder: URL(fileURLWithPath: config))
        } else {
            pipeline = try GenerationPipeline(modelFolder: modelURL)
        }
        let defaultSize = pipeline.unet.config.sampleSize * pipeline.vae.config.downscale
        var request = GenerationRequest(prompt: prompt)
        request.negativePrompt = negativePrompt
        request.steps = steps
        request.guidance = guidance
        request.sampler = scheduler
        request.seed = seed
        request.width = width ?? defaultSize
        request.height = height ?? defaultSize
        if let noise {
            request.noise = try SafetensorsFile(url: URL(fileURLWithPath: noise)).tensor("latents")
        }
        if let initImage {
            let image = try ImageFile.load(URL(fileURLWithPath: initImage))
            guard image.width == request.width, image.height == request.height else {
                throw UserFacingError("\(initImage): image is \(image.width)x\(image.height), expected \(request.width)x\(request.height) (set --width/--height)")
            }
            request.initImage = image.tensor(range: .minusOneToOne)
            request.strength = strength ?? 0.75
        }
        if !references.isEmpty {
            try personalize(&request, pipeline: pipeline)
        } else if adapter != nil || imageEncoder != nil {
            throw UserFacingError("--adapter and --image-encoder need at least one --reference photo")
        }
        let progress = ProgressReporter()
        InterruptWatch.install()
        let stop = StopFlag(poll: { InterruptWatch.received != 0 })
        let result: GenerationResult
        do {
            result = try pipeline.generate(request, stop: stop) { progress.report($0); return true }
        } catch let stopped as GenerationCancelled {
            progress.finish()
            let signal = InterruptWatch.received
            FileHandle.standardError.write(Data("photoverse generate: \(stopped) (\(InterruptWatch.signalName(signal))); nothing written\n".utf8))
            InterruptWatch.die(of: signal)
        }
        progress.finish()
        if let latentsOut {
            try SafetensorsWriter.write(["latents": result.latents], to: URL(fileURLWithPath: latentsOut))
        }
        let image = RGBImage(tensor: result.image, range: .zeroToOne)
        let written = try record(request).save(image, to: out.map { URL(fileURLWithPath: $0) },
                                              inFolder: URL(fileURLWithPath: "out", isDirectory: true))
        print(written.path)
        // A signal during the save lets the (atomic) save finish, then ends the run as asked.
        if InterruptWatch.received != 0 {
            FileHandle.standardError.write(Data("photoverse generate: \(InterruptWatch.signalName(InterruptWatch.received)) after the image was saved\n".utf8))
            InterruptWatch.die(of: InterruptWatch.received)
        }
    }

    /// Loads the adapter, prepares the reference faces and sets PhotoVerse's knobs.
    private func personalize(_ request: inout GenerationRequest, pipeline: GenerationPipeline) throws {
        if let adapter {
            let encoderFolder = imageEncoder ?? (model.hasSuffix(".safetensors") ? config ?? model : model)
            try pipeline.loadIdentity(adapter: URL(fileURLWithPath: adapter), imageEncoderFolder: URL(fileURLWithPath: encoderFolder))
        }
        guard let identity = pipeline.identity else {
            throw UserFacingError("\(model): no PhotoVerse adapter and image encoder in this model; give --adapter FILE (and --image-encoder DIR)")
        }
        for (name, value) in [("--image-start", imageStart), ("--image-end", imageEnd)] where !(0...1).contains(value) {
            throw UserFacingError("\(name) must be within 0...1, got \(value)")
        }
        guard imageStart <= imageEnd else {
            throw UserFacingError("--image-start \(imageStart) is after --image-end \(imageEnd)")
        }
        var prepared: [RGBImage] = []
        for path in references {
            let reference = try ReferencePreparation.prepare(file: URL(fileURLWithPath: path), crop: try cropMode(for: path),
                                                             outputSize: identity.inputSize)
            FileHandle.standardError.write(Data("\(path): \(reference.summary)\n".utf8))
            prepared.append(reference.image)
        }
        var personalization = Personalization(references: prepared)
        personalization.textWeight = textWeight
        personalization.imageWeight = imageWeight
        personalization.loraScale = loraScale
        personalization.pseudoWords = tokens
        personalization.imageStart = imageStart
        personalization.imageEnd = imageEnd
        personalization.identityGuidance = identityGuidance
        if identity.adapter.hasTextBranch, !prompt.contains(identity.adapter.metadata.placeholder) {
            FileHandle.standardError.write(Data("note: the prompt has no \(identity.adapter.metadata.placeholder); only the image branch carries the identity\n".utf8))
        }
        request.personalization = personalization
        if initImage == nil, let strength {
            // The paper's image-to-image trick: start from the noised reference.
            // The same crop as the encoder's input, without the background mask.
            var options = ReferencePreparation.Options()
            options.masking = .off
            let start = try ReferencePreparation.prepare(file: URL(fileURLWithPath: references[0]), crop: try cropMode(for: references[0]),
                                                         outputSize: min(request.width, request.height), options: options)
            guard start.image.width == request.width, start.image.height == request.height else {
                throw UserFacingError("--strength with --reference needs a square size (--width = --height), got \(request.width)x\(request.height)")
            }
            request.initImage = start.image.tensor(range: .minusOneToOne)
            request.strength = strength
        }
    }

    /// --crop, else auto, or none for a face that ships with the model (already its encoder's crop).
    private func cropMode(for path: String) throws -> CropMode {
        try CropMode(parsing: crop ?? (isShipped(path) ? "none" : "auto"))
    }

    private func isShipped(_ path: String) -> Bool {
        ModelFolder.isShippedReference(URL(fileURLWithPath: path), of: URL(fileURLWithPath: model))
    }

    /// What goes into the PNG: everything needed to run it again.
    private func record(_ request: GenerationRequest) -> GenerationRecord {
        var record = GenerationRecord(prompt: prompt)
        record.negativePrompt = negativePrompt
        record.steps = steps
        record.guidance = guidance
        record.sampler = scheduler.rawValue
        record.seed = seed
        record.width = request.width
        record.height = request.height
        record.strength = request.initImage == nil ? nil : request.strength
        record.model = model
        if let p = request.personalization {
            record.references = references
            record.crop = crop ?? (references.allSatisfy { isShipped($0) } ? "none" : "auto")
            record.textWeight = p.textWeight
            record.imageWeight = p.imageWeight
            record.loraScale = p.loraScale
            record.pseudoWords = p.pseudoWords ?? 1
            record.imageStart = p.imageStart
            record.imageEnd = p.imageEnd
            record.identityGuidance = p.identityGuidance
            record.adapter = adapter
        }
        return record
    }
}
