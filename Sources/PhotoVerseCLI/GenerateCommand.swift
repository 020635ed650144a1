import ArgumentParser
import Foundation
import Formats
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
    @Option(help: "img2img: fraction of the schedule to run, in (0, 1].") var strength: Double = 0.75
    @Option(help: "Output PNG (never overwritten; default: a new numbered file in ./out).") var out: String?

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
            request.strength = strength
        }
        let progress = ProgressReporter()
        let result = try pipeline.generate(request) { progress.report($0); return true }
        progress.finish()
        if let latentsOut {
            try SafetensorsWriter.write(["latents": result.latents], to: URL(fileURLWithPath: latentsOut))
        }
        let image = RGBImage(tensor: result.image, range: .zeroToOne)
        let parameters = "\(prompt)\nNegative prompt: \(negativePrompt)\nSteps: \(steps), Sampler: \(scheduler.rawValue), "
            + "CFG scale: \(guidance), \(initImage == nil ? "" : "Denoising strength: \(strength), ")Seed: \(seed), Size: \(request.width)x\(request.height), Model: \(model)"
        let written: URL
        if let out {
            written = URL(fileURLWithPath: out)
            try PNGCodec.write(image, text: ["parameters": parameters], to: written)
        } else {
            let folder = URL(fileURLWithPath: "out", isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            written = try PNGCodec.writeNumbered(image, text: ["parameters": parameters], in: folder, prefix: "photoverse")
        }
        print(written.path)
    }
}
