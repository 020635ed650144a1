import Foundation
import Formats
import Models
import TensorCore

/// From a request (file names, crops, knobs) to the tensors a run needs. One place for both
/// front ends, so the CLI and the TUI start from the same images for the same settings.
extension GenerationPipeline {
    /// Validates `request` against the model and loads what it names: the noise file, the
    /// init image, the adapter it asks for, the reference faces and the strength start image.
    public func prepare(_ request: GenerationRequest) throws -> PreparedRequest {
        try request.validate()
        try request.validateFiles()
        try request.validate(downscale: vae.config.downscale, trainTimesteps: schedulerConfig.numTrainTimesteps)
        var prepared = PreparedRequest(prompt: request.prompt)
        prepared.negativePrompt = request.negativePrompt
        prepared.steps = request.steps
        prepared.guidance = request.guidance
        prepared.sampler = request.sampler
        prepared.seed = request.seed
        prepared.width = request.width
        prepared.height = request.height
        prepared.decoder = request.decoder
        prepared.preview = request.preview
        try checkDecoders(decoder: request.decoder, preview: request.preview)
        if let file = request.noiseFile {
            let noise = try SafetensorsFile(url: URL(fileURLWithPath: file)).tensor("latents")
            guard noise.isAllFinite else {
                throw InvalidRequest("\(file.terminalSafe): tensor 'latents' holds NaN or infinite values")
            }
            prepared.noise = noise
        }
        prepared.loras = try request.loras.map { (try loraFile($0.path), $0.scale) }
        forgetLoRAFiles(except: request.loras.map(\.path))
        if let strength = request.strength { prepared.strength = strength }
        if let file = request.initImage {
            let image = try ImageFile.load(URL(fileURLWithPath: file))
            guard image.width == request.width, image.height == request.height else {
                throw InvalidRequest("\(file.terminalSafe): image is \(image.width)x\(image.height), expected \(request.width)x\(request.height) (set --width/--height)")
            }
            prepared.initImage = image.tensor(range: .minusOneToOne)
        }
        if request.isPersonalized {
            prepared.personalization = try personalization(request.identity, notes: &prepared.notes)
            if let adapter = identity?.adapter, adapter.hasTextBranch, !request.prompt.contains(adapter.metadata.placeholder) {
                prepared.notes.append("note: the prompt has no \(adapter.metadata.placeholder); only the image branch carries the identity")
            }
            if let adapter = identity?.adapter, let kind = adapter.ipAdapterKind, kind.variant.needsFaceEmbedding,
               kind.layout == .diffusers, request.loras.isEmpty {
                prepared.notes.append("note: \(adapter.origin.terminalSafe) is FaceID in diffusers' layout, which keeps its companion LoRA apart: without it (--lora FILE, scale 1 as diffusers loads it) the result is not FaceID's")
            }
            if request.strength != nil, request.initImage == nil, !request.identity.references.isEmpty {
                prepared.initImage = try referenceStart(request)
            }
        } else if request.identity.adapter != nil {
            throw InvalidRequest("--adapter needs at least one --reference photo (or --face-embedding for IP-Adapter FaceID)")
        }
        return prepared
    }

    /// Runs a request: prepares it, then generates (see `generate(_: PreparedRequest, ...)`).
    public func generate(_ request: GenerationRequest, stop: StopFlag? = nil,
                         progress: (StepProgress) -> Bool = { _ in true }) throws -> GenerationResult {
        try generate(try prepare(request), stop: stop, progress: progress)
    }

    func personalization(_ settings: IdentitySettings, notes: inout [String]) throws -> Personalization {
        if let adapter = settings.adapter {
            try useAdapter(adapter, imageEncoder: settings.imageEncoder)
        }
        guard let identity else {
            throw InvalidRequest("\(origin.path.terminalSafe): no PhotoVerse adapter and image encoder in this model; give --adapter FILE (and --image-encoder DIR)")
        }
        // m is checked before any face is prepared, so a refusal is the only line printed.
        if let m = settings.pseudoWords, let branch = identity.adapter.textAdapter, m > branch.layerCount {
            throw InvalidRequest("pseudo-words m = \(m) is outside 1...\(branch.layerCount) (the adapter's layers)")
        }
        let faceEmbedding = try faceInputs(settings, identity: identity, notes: &notes)
        var faces: [RGBImage] = []
        for reference in settings.references {
            let face = try ReferencePreparation.prepare(file: URL(fileURLWithPath: reference.path), crop: reference.crop,
                                                        outputSize: identity.inputSize, faces: self.faces)
            notes.append("\(reference.path.terminalSafe): \(face.summary)")
            faces.append(face.image)
        }
        var personalization = Personalization(references: faces)
        personalization.textWeight = settings.textWeight
        personalization.imageWeight = settings.imageWeight
        personalization.loraScale = settings.loraScale
        personalization.pseudoWords = settings.pseudoWords
        personalization.imageStart = settings.imageStart
        personalization.imageEnd = settings.imageEnd
        personalization.identityGuidance = settings.identityGuidance
        personalization.faceEmbedding = faceEmbedding
        personalization.shortcutScale = settings.shortcutScale
        return personalization
    }

    /// What IP-Adapter's FaceID variants read besides photos: the face embedding file, checked
    /// against the adapter; a knob or input the loaded adapter does not read is refused.
    func faceInputs(_ settings: IdentitySettings, identity: IdentityEncoder, notes: inout [String]) throws -> Tensor? {
        let adapter = identity.adapter
        let file = adapter.origin.terminalSafe
        let what = adapter.ipAdapter?.variant.title ?? "a PhotoVerse adapter"
        if settings.shortcutScale != nil, adapter.ipAdapter?.variant != .faceIDPlus {
            throw InvalidRequest("--shortcut-scale: \(file) is \(what); the shortcut belongs to IP-Adapter FaceID-Plus (Plus-v2)")
        }
        let width = identity.faceEmbeddingWidth
        if width == nil, let path = settings.faceEmbedding {
            throw InvalidRequest("--face-embedding \(path.terminalSafe): \(file) is \(what), which reads no face embedding")
        }
        if !identity.needsReferences, !settings.references.isEmpty {
            throw InvalidRequest("--reference: \(file) is \(what), which reads only the face embedding (--face-embedding); drop --reference")
        }
        if identity.needsReferences, settings.references.isEmpty {
            throw InvalidRequest("\(file) is \(what): it needs at least one --reference photo")
        }
        guard let width else { return nil }
        guard let path = settings.faceEmbedding else {
            throw InvalidRequest("\(file) is \(what): give --face-embedding FILE (its \(width)-value ArcFace embedding, .npy or .safetensors)")
        }
        let embedding = try FaceEmbeddingFile.load(URL(fileURLWithPath: path))
        guard embedding.count == width else {
            throw InvalidRequest("--face-embedding \(path.terminalSafe): \(embedding.count) values; \(file) reads \(width)")
        }
        let norm = embedding.scalars.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if abs(norm - 1) > 0.01 {
            notes.append("note: \(path.terminalSafe): the face embedding has length \(norm), not 1 (insightface's normed_embedding has 1); used as given")
        }
        return embedding
    }

    /// The paper's image-to-image trick: start from the first reference, the same crop as the
    /// encoder's input without the background mask, at the output size.
    func referenceStart(_ request: GenerationRequest) throws -> Tensor {
        guard request.width == request.height else {
            throw InvalidRequest("--strength with --reference needs a square size (--width = --height), got \(request.width)x\(request.height)")
        }
        let reference = request.identity.references[0]
        var options = ReferencePreparation.Options()
        options.masking = .off
        let start = try ReferencePreparation.prepare(file: URL(fileURLWithPath: reference.path), crop: reference.crop,
                                                     outputSize: request.width, options: options, faces: faces)
        return start.image.tensor(range: .minusOneToOne)
    }

    /// Loads an adapter file other than the model's own (once: a second run with it reuses it).
    func useAdapter(_ path: String, imageEncoder: String?) throws {
        guard path != loadedAdapterPath else { return }
        try loadIdentity(adapter: URL(fileURLWithPath: path),
                         imageEncoderFolder: imageEncoder.map { URL(fileURLWithPath: $0) } ?? componentsFolder)
        loadedAdapterPath = path
    }
}
