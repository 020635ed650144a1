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

/// Headless generation for scripts and tests: its options edit one `GenerationRequest`
/// (a fresh one, or the one a result's PNG carries with --load), which the pipeline runs.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate an image headless (for scripts).")

    @OptionGroup var request: RequestOptions
    @Option(help: "Write the final latents (tensor 'latents') to this safetensors file.") var latentsOut: String?
    @Option(help: "Output PNG (never overwritten; default: a new numbered file in ./out).") var out: String?
    @Option(help: "Write each step's preview of the predicted image (see --preview) as DIR/step-NN.png (DIR must not exist).") var previewDir: String?
    @OptionGroup var faceScorer: FaceScorerOption
    @Flag(help: "Print a JSON record (file, request, identity score) instead of the path.") var json = false

    func run() throws {
        do {
            try generate()
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("photoverse generate: \(Self.oneLine(error))\n".utf8))
            throw ExitCode(1)
        }
    }

    /// An error as one terminal-safe line.
    static func oneLine(_ error: Error) -> String {
        "\(error)".terminalSafe
    }

    private func generate() throws {
        var request = try self.request.edited()
        // Everything that does not need the model is checked before it loads.
        try request.validate()
        try request.validateFiles()
        if let out, FileManager.default.fileExists(atPath: out) {
            throw UserFacingError("\(out): already exists; choose another --out (results are never overwritten)")
        }
        if let latentsOut, FileManager.default.fileExists(atPath: latentsOut) {
            throw UserFacingError("\(latentsOut): already exists; choose another --latents-out")
        }
        if let previewDir, FileManager.default.fileExists(atPath: previewDir) {
            throw UserFacingError("\(previewDir): already exists; choose another --preview-dir (previews are never overwritten)")
        }
        if previewDir != nil, request.preview == .none {
            throw UserFacingError("--preview-dir with --preview none: there would be nothing to write")
        }
        let pipeline = try Self.loadPipeline(for: request)
        try TinyAutoencoderLocation.attach(to: pipeline, for: &request, wantsPreviews: previewDir != nil,
                                          named: self.request.taesd)
        let scoring = try faceScorer.scoring(for: request)
        // A fresh request takes the model's own size.
        let nativeSize = pipeline.unet.config.sampleSize * pipeline.vae.config.downscale
        if self.request.load == nil {
            request.width = self.request.width ?? nativeSize
            request.height = self.request.height ?? nativeSize
        }
        var prepared = try pipeline.prepare(request)
        for note in prepared.notes { FileHandle.standardError.write(Data("\(note)\n".utf8)) }
        // Without --preview-dir nothing reads the previews: none are drawn.
        if previewDir == nil { prepared.preview = .none }
        let previews = try previewDir.map { try PreviewWriter(creating: $0) }
        let progress = ProgressReporter()
        InterruptWatch.install()
        let stop = StopFlag(poll: { InterruptWatch.received != 0 })
        let result: GenerationResult
        var previewFailure: Error?
        do {
            result = try pipeline.generate(prepared, stop: stop) { step in
                progress.report(step)
                do {
                    try previews?.write(step)
                } catch {
                    previewFailure = error
                    return false
                }
                return true
            }
        } catch let stopped as GenerationCancelled {
            progress.finish()
            if let previewFailure { throw previewFailure }
            let signal = InterruptWatch.received
            // The previews of the steps done stay (each a whole file); the image is not written.
            let kept = previews.map { "; the previews so far are in \($0.folder.path.terminalSafe); no image written" } ?? "; nothing written"
            FileHandle.standardError.write(Data("photoverse generate: \(stopped) (\(InterruptWatch.signalName(signal)))\(kept)\n".utf8))
            InterruptWatch.die(of: signal)
        }
        progress.finish()
        if let latentsOut {
            try SafetensorsWriter.write(["latents": result.latents], to: URL(fileURLWithPath: latentsOut))
        }
        let image = RGBImage(tensor: result.image, range: .zeroToOne)
        let score = scoring?.score(image, for: request)
        if let scoring, score == nil, request.isPersonalized {
            FileHandle.standardError.write(Data("no face match: \(scoring.scorer.name) found no face in the result or the references\n".utf8))
        }
        let written = try request.save(image, to: out.map { URL(fileURLWithPath: $0) },
                                       inFolder: URL(fileURLWithPath: "out", isDirectory: true), score: score)
        print(json ? Self.record(file: written, request: request, score: score) : written.path)
        // A signal during the save lets the (atomic) save finish, then ends the run as asked.
        if InterruptWatch.received != 0 {
            FileHandle.standardError.write(Data("photoverse generate: \(InterruptWatch.signalName(InterruptWatch.received)) after the image was saved\n".utf8))
            InterruptWatch.die(of: InterruptWatch.received)
        }
    }

    /// `--json`: one line, {"file", "request" (the PNG's photoverse record), "identity_score"
    /// (absent when no scorer fits or no face was found)}.
    static func record(file: URL, request: GenerationRequest, score: IdentityScore?) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let path = String(decoding: (try? encoder.encode(file.path)) ?? Data("null".utf8), as: UTF8.self)
        var fields = ["\"file\":" + path, "\"request\":" + request.json]
        if let score { fields.append("\"identity_score\":" + score.json) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// The model a request names: a diffusers folder, or a single file with its config folder.
    static func loadPipeline(for request: GenerationRequest) throws -> GenerationPipeline {
        let modelPath = request.model ?? ""
        let modelURL = URL(fileURLWithPath: modelPath)
        guard ["safetensors", "ckpt", "pt", "pth", "bin"].contains(modelURL.pathExtension) else {
            return try GenerationPipeline(modelFolder: modelURL, faces: Shipped.faces)
        }
        guard let configFolder = request.configFolder else {
            throw UserFacingError("\(modelPath): a single-file checkpoint needs --config DIR (a diffusers folder with the configs and tokenizer)")
        }
        return try GenerationPipeline(singleFile: modelURL, configFolder: URL(fileURLWithPath: configFolder),
                                      faces: Shipped.faces)
    }
}
