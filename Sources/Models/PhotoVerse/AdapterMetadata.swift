import Foundation
import Formats

/// The `__metadata__` of a PhotoVerse adapter file (all values are strings in safetensors).
public struct AdapterMetadata: Equatable {
    public var baseModel = ""
    /// Vision encoder layers feeding the adapters, in token order; -1 = last hidden state.
    public var encoderLayers: [Int] = [-1, 4, 8, 12, 16]
    /// m, the number of pseudo-words / image tokens the adapters produce.
    public var tokens = 5
    public var loraRank = 0
    public var placeholder = "S*"
    /// The identity-only prompt of the three-term guidance (ε(id)).
    public var identityPrompt = "a photo of S*"
    /// The vision encoder's input size the adapters were trained with (0 = the encoder's own).
    public var imageSize = 0
    /// CLIP normalisation of the encoder's input.
    public var imageMean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    public var imageStd: [Float] = [0.26862954, 0.26130258, 0.27577711]
    /// m when the user does not choose (the paper infers with 1).
    public var defaultPseudoWords = 1
    /// What ε(∅) gets as image input: `zero_tokens` (the image attention adds exactly 0) or
    /// `zero_features` (the image adapter applied to all-zero encoder features).
    public var unconditionalImage = UnconditionalImage.zeroTokens
    /// A prompt in the words the model knows (the UI's default prompt on this model).
    public var examplePrompt: String?
    /// What the model was trained on, e.g. "drawn faces": a real photo then will not carry over.
    public var domain: String?

    public enum UnconditionalImage: String, CaseIterable {
        case zeroTokens = "zero_tokens", zeroFeatures = "zero_features"
    }

    public init() {}

    public static let formatName = "photoverse-adapter"

    /// Reads the fields; a malformed number names the key and the file.
    public init(_ raw: [String: String], file: String) throws {
        func integer(_ key: String) throws -> Int? {
            guard let text = raw[key] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw ModelError.invalidInput("\(file.terminalSafe): metadata '\(key)' = '\(text.terminalSafe)' is not an integer")
            }
            return value
        }
        baseModel = raw["base_model"] ?? ""
        if let text = raw["encoder_layers"] {
            let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
                throw ModelError.invalidInput("\(file.terminalSafe): metadata 'encoder_layers' = '\(text.terminalSafe)' is not a comma-separated list of integers")
            }
            encoderLayers = parts.map { $0! }
        }
        tokens = try integer("tokens") ?? encoderLayers.count
        loraRank = try integer("lora_rank") ?? 0
        placeholder = raw["placeholder"] ?? placeholder
        identityPrompt = raw["identity_prompt"] ?? identityPrompt
        examplePrompt = raw["example_prompt"].flatMap { $0.isEmpty || $0.utf8.count > 4096 ? nil : $0 }
        domain = raw["domain"].flatMap { $0.isEmpty || $0.utf8.count > 200 ? nil : $0 }
        imageSize = try integer("image_size") ?? 0
        func floats(_ key: String) throws -> [Float]? {
            guard let text = raw[key] else { return nil }
            let values = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == 3, values.allSatisfy({ $0 != nil }) else {
                throw ModelError.invalidInput("\(file.terminalSafe): metadata '\(key)' = '\(text.terminalSafe)' is not three comma-separated numbers")
            }
            return values.map { $0! }
        }
        imageMean = try floats("image_mean") ?? imageMean
        imageStd = try floats("image_std") ?? imageStd
        defaultPseudoWords = try integer("default_num_words") ?? 1
        if let text = raw["uncond_image"] {
            guard let mode = UnconditionalImage(rawValue: text) else {
                throw ModelError.invalidInput("\(file.terminalSafe): metadata 'uncond_image' = '\(text.terminalSafe)' is not one of "
                                              + UnconditionalImage.allCases.map(\.rawValue).joined(separator: ", "))
            }
            unconditionalImage = mode
        }
        try validate(file: file)
    }

    /// The most encoder layers / tokens an adapter may use (ViT-L/14 has 24 layers).
    public static let maxLayers = 256

    /// Ranges of the fields (the reader calls this; call it after building metadata by hand).
    /// The layers must also exist in the image encoder: `IdentityEncoder` checks that.
    public func validate(file: String) throws {
        func fail(_ key: String, _ value: String, _ reason: String) -> ModelError {
            ModelError.invalidInput("\(file.terminalSafe): metadata '\(key)' = '\(value.terminalSafe)': \(reason)")
        }
        let layers = encoderLayers.map(String.init).joined(separator: ",")
        guard (1...Self.maxLayers).contains(encoderLayers.count) else {
            throw fail("encoder_layers", layers, "needs 1...\(Self.maxLayers) layers, has \(encoderLayers.count)")
        }
        if let bad = encoderLayers.first(where: { $0 != -1 && !(0...Self.maxLayers).contains($0) }) {
            throw fail("encoder_layers", layers, "layer \(bad): each must be -1 (the last hidden state) or 0...\(Self.maxLayers)")
        }
        guard (1...Self.maxLayers).contains(tokens) else {
            throw fail("tokens", String(tokens), "must lie in 1...\(Self.maxLayers)")
        }
        guard (0...4096).contains(loraRank) else { throw fail("lora_rank", String(loraRank), "must lie in 0...4096") }
        guard (0...4096).contains(imageSize) else {
            throw fail("image_size", String(imageSize), "must lie in 0...4096 (0: the encoder's own size)")
        }
        guard (1...max(1, tokens)).contains(defaultPseudoWords) else {
            throw fail("default_num_words", String(defaultPseudoWords), "must lie in 1...tokens (\(tokens))")
        }
        let trimmed = placeholder.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed == placeholder, placeholder.count <= 64,
              !placeholder.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw fail("placeholder", placeholder, "must be 1...64 visible characters with no surrounding spaces")
        }
        guard identityPrompt.utf8.count <= 4096 else {
            throw fail("identity_prompt", String(identityPrompt.prefix(40)) + "...", "longer than 4096 bytes")
        }
        if let bad = imageMean.first(where: { !$0.isFinite }) {
            throw fail("image_mean", imageMean.map { "\($0)" }.joined(separator: ","), "value \(bad) is not a finite number")
        }
        if let bad = imageStd.first(where: { !($0.isFinite && $0 > 0) }) {
            throw fail("image_std", imageStd.map { "\($0)" }.joined(separator: ","), "value \(bad): each must be a finite number above 0")
        }
    }

    /// The metadata as written to a file; reading it back gives the same value (fuzz-adapter-metadata
    /// checks the round trip).
    public var asStrings: [String: String] {
        var strings = ["format": Self.formatName, "format_version": "1", "base_model": baseModel,
         "encoder_layers": encoderLayers.map(String.init).joined(separator: ","), "tokens": String(tokens),
         "lora_rank": String(loraRank), "placeholder": placeholder, "identity_prompt": identityPrompt,
         "image_size": String(imageSize),
         "image_mean": imageMean.map { "\($0)" }.joined(separator: ","),
         "image_std": imageStd.map { "\($0)" }.joined(separator: ","),
         "default_num_words": String(defaultPseudoWords), "uncond_image": unconditionalImage.rawValue]
        if let examplePrompt { strings["example_prompt"] = examplePrompt }
        if let domain { strings["domain"] = domain }
        return strings
    }
}
