import Foundation
import Pipeline
import Sampling

/// What the UI keeps between runs: the request it edits (prompts, knobs, size, the reference)
/// and the UI's own choices around it (seed lock, batch). Saved in the config file; a result's
/// PNG loads back into it.
public struct GenerationSettings: Codable, Equatable, Sendable {
    public var request: GenerationRequest
    /// Locked: every run uses the request's seed (a batch counts up from it); unlocked: each run draws a new one.
    public var seedLocked = false
    /// How many runs `g` queues at once.
    public var batch = 1
    /// The last x,y,w,h crop, so that cycling the crop mode can come back to it.
    public var cropBox: CropMode?

    public init() {
        request = GenerationRequest(prompt: "a photo of S* as an astronaut on the moon")
        request.negativePrompt = "blurry, low quality"
        request.seed = 42
    }

    /// The UI works with one reference photo: the request's first.
    public var referencePath: String? {
        get { request.identity.references.first?.path }
        set {
            request.identity.references = newValue.map { [ReferenceSource(path: $0, crop: crop)] } ?? []
        }
    }

    /// The reference's crop (kept while no photo is picked, for the next one).
    public var crop: CropMode {
        get { request.identity.references.first?.crop ?? pendingCrop }
        set {
            pendingCrop = newValue
            if case .box = newValue { cropBox = newValue }
            for index in request.identity.references.indices { request.identity.references[index].crop = newValue }
        }
    }
    private var pendingCrop = CropMode.auto

    /// auto → none → the last box (if any) → auto.
    public mutating func cycleCrop() {
        switch crop {
        case .auto: crop = .none
        case .none: crop = cropBox ?? .auto
        case .box: crop = .auto
        }
    }

    /// A result's request, to run again exactly: its seed locked, one run per `g`.
    public mutating func load(_ loaded: GenerationRequest) {
        request = loaded
        seedLocked = true
        batch = 1
        if let first = loaded.identity.references.first { crop = first.crop }
    }

    /// The request of one run with `seed`, for the model in `modelFolder`: without the
    /// identity when the model has none, and without a strength when there is no reference.
    public func request(seed: UInt64, modelFolder: URL, modelHasIdentity: Bool) -> GenerationRequest {
        var run = request
        run.seed = seed
        run.model = modelFolder.path
        if !modelHasIdentity { run.identity.references = [] }
        if !run.isPersonalized && run.initImage == nil { run.strength = nil }
        return run
    }

    enum CodingKeys: String, CodingKey {
        case request, seedLocked, batch, cropBox, pendingCrop
    }

    enum LegacyKeys: String, CodingKey {
        case referencePath, crop, seedLocked, batch
    }

    // A config of the first versions held the knobs flat (the first records' layout, which
    // GenerationRequest still reads) with `referencePath` and `crop`; anything unreadable keeps
    // the defaults instead of failing the whole file.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let request = try? c.decodeIfPresent(GenerationRequest.self, forKey: .request) {
            self.request = request
            seedLocked = (try? c.decodeIfPresent(Bool.self, forKey: .seedLocked)) ?? false
            batch = (try? c.decodeIfPresent(Int.self, forKey: .batch)) ?? 1
            cropBox = try? c.decodeIfPresent(CropMode.self, forKey: .cropBox)
            pendingCrop = (try? c.decodeIfPresent(CropMode.self, forKey: .pendingCrop)) ?? .auto
        } else if let legacy = try? GenerationRequest(from: decoder) {
            let old = try decoder.container(keyedBy: LegacyKeys.self)
            request = legacy
            seedLocked = (try? old.decodeIfPresent(Bool.self, forKey: .seedLocked)) ?? false
            batch = (try? old.decodeIfPresent(Int.self, forKey: .batch)) ?? 1
            crop = ((try? old.decodeIfPresent(String.self, forKey: .crop)) ?? nil).flatMap { try? CropMode(parsing: $0) } ?? .auto
            referencePath = (try? old.decodeIfPresent(String.self, forKey: .referencePath)) ?? nil
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(request, forKey: .request)
        try c.encode(seedLocked, forKey: .seedLocked)
        try c.encode(batch, forKey: .batch)
        try c.encodeIfPresent(cropBox, forKey: .cropBox)
        try c.encode(pendingCrop, forKey: .pendingCrop)
    }
}
