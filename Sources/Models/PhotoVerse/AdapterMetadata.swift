import Foundation

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

    public init() {}

    public static let formatName = "photoverse-adapter"

    /// Reads the fields; a malformed number names the key and the file.
    public init(_ raw: [String: String], file: String) throws {
        func integer(_ key: String) throws -> Int? {
            guard let text = raw[key] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw ModelError.invalidInput("\(file): metadata '\(key)' = '\(text)' is not an integer")
            }
            return value
        }
        baseModel = raw["base_model"] ?? ""
        if let text = raw["encoder_layers"] {
            let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
                throw ModelError.invalidInput("\(file): metadata 'encoder_layers' = '\(text)' is not a comma-separated list of integers")
            }
            encoderLayers = parts.map { $0! }
        }
        tokens = try integer("tokens") ?? encoderLayers.count
        loraRank = try integer("lora_rank") ?? 0
        placeholder = raw["placeholder"] ?? placeholder
        identityPrompt = raw["identity_prompt"] ?? identityPrompt
        imageSize = try integer("image_size") ?? 0
    }

    public var asStrings: [String: String] {
        ["format": Self.formatName, "format_version": "1", "base_model": baseModel,
         "encoder_layers": encoderLayers.map(String.init).joined(separator: ","), "tokens": String(tokens),
         "lora_rank": String(loraRank), "placeholder": placeholder, "identity_prompt": identityPrompt,
         "image_size": String(imageSize)]
    }
}
