import Sampling

/// Reading requests back: missing keys keep their defaults (a record of an older version),
/// and the flat layout of the first records (`references`, `crop`, `textWeight`, ... at the
/// top level, `sampler` as a string) reads into `identity`, so every earlier PNG still reloads.
extension GenerationRequest {
    enum CodingKeys: String, CodingKey {
        case prompt, negativePrompt, steps, guidance, sampler, seed, width, height, noiseFile, initImage, strength
        case identity, model, configFolder, loras, decoder, preview, taesd
    }

    enum LegacyKeys: String, CodingKey {
        case references, crop, textWeight, imageWeight, loraScale, pseudoWords, imageStart, imageEnd
        case identityGuidance, adapter
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(prompt: try c.decode(String.self, forKey: .prompt))
        negativePrompt = try c.decodeIfPresent(String.self, forKey: .negativePrompt) ?? negativePrompt
        steps = try c.decodeIfPresent(Int.self, forKey: .steps) ?? steps
        guidance = try c.decodeIfPresent(Float.self, forKey: .guidance) ?? guidance
        sampler = try c.decodeIfPresent(SamplerKind.self, forKey: .sampler) ?? sampler
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        width = try c.decodeIfPresent(Int.self, forKey: .width) ?? width
        height = try c.decodeIfPresent(Int.self, forKey: .height) ?? height
        noiseFile = try c.decodeIfPresent(String.self, forKey: .noiseFile)
        initImage = try c.decodeIfPresent(String.self, forKey: .initImage)
        strength = try c.decodeIfPresent(Double.self, forKey: .strength)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        if model == "" { model = nil }
        configFolder = try c.decodeIfPresent(String.self, forKey: .configFolder)
        loras = try c.decodeIfPresent([LoRAChoice].self, forKey: .loras) ?? []
        self.decoder = try c.decodeIfPresent(FinalDecoder.self, forKey: .decoder) ?? self.decoder
        preview = try c.decodeIfPresent(PreviewDecoder.self, forKey: .preview) ?? preview
        taesd = try c.decodeIfPresent(String.self, forKey: .taesd)
        if let identity = try c.decodeIfPresent(IdentitySettings.self, forKey: .identity) {
            self.identity = identity
        } else {
            identity = try Self.legacyIdentity(try decoder.container(keyedBy: LegacyKeys.self))
        }
    }

    static func legacyIdentity(_ c: KeyedDecodingContainer<LegacyKeys>) throws -> IdentitySettings {
        var identity = IdentitySettings()
        let crop = try c.decodeIfPresent(CropMode.self, forKey: .crop) ?? .auto
        identity.references = (try c.decodeIfPresent([String].self, forKey: .references) ?? [])
            .map { ReferenceSource(path: $0, crop: crop) }
        identity.textWeight = try c.decodeIfPresent(Float.self, forKey: .textWeight) ?? identity.textWeight
        identity.imageWeight = try c.decodeIfPresent(Float.self, forKey: .imageWeight) ?? identity.imageWeight
        identity.loraScale = try c.decodeIfPresent(Float.self, forKey: .loraScale) ?? identity.loraScale
        identity.pseudoWords = try c.decodeIfPresent(Int.self, forKey: .pseudoWords)
        identity.imageStart = try c.decodeIfPresent(Double.self, forKey: .imageStart) ?? identity.imageStart
        identity.imageEnd = try c.decodeIfPresent(Double.self, forKey: .imageEnd) ?? identity.imageEnd
        identity.identityGuidance = try c.decodeIfPresent(Float.self, forKey: .identityGuidance)
        identity.adapter = try c.decodeIfPresent(String.self, forKey: .adapter)
        return identity
    }
}

extension IdentitySettings {
    enum CodingKeys: String, CodingKey {
        case references, adapter, imageEncoder, textWeight, imageWeight, loraScale, pseudoWords
        case imageStart, imageEnd, identityGuidance, faceEmbedding, shortcutScale
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        references = try c.decodeIfPresent([ReferenceSource].self, forKey: .references) ?? []
        adapter = try c.decodeIfPresent(String.self, forKey: .adapter)
        imageEncoder = try c.decodeIfPresent(String.self, forKey: .imageEncoder)
        textWeight = try c.decodeIfPresent(Float.self, forKey: .textWeight) ?? textWeight
        imageWeight = try c.decodeIfPresent(Float.self, forKey: .imageWeight) ?? imageWeight
        loraScale = try c.decodeIfPresent(Float.self, forKey: .loraScale) ?? loraScale
        pseudoWords = try c.decodeIfPresent(Int.self, forKey: .pseudoWords)
        imageStart = try c.decodeIfPresent(Double.self, forKey: .imageStart) ?? imageStart
        imageEnd = try c.decodeIfPresent(Double.self, forKey: .imageEnd) ?? imageEnd
        identityGuidance = try c.decodeIfPresent(Float.self, forKey: .identityGuidance)
        faceEmbedding = try c.decodeIfPresent(String.self, forKey: .faceEmbedding)
        shortcutScale = try c.decodeIfPresent(Float.self, forKey: .shortcutScale)
    }
}
