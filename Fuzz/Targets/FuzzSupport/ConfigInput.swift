import Foundation

/// The input layout fuzz-config and fuzz-model share, so one seed corpus serves both: the first
/// byte picks the config type, the rest is that config's JSON file.
public struct ConfigInput {
    public enum Kind: UInt8, CaseIterable {
        case unet, vae, clipText, clipVision, scheduler, faceDetector
    }

    public let kind: Kind
    /// The whole first byte: `kind` is its value modulo the kinds; a target may read its high bits.
    public let selector: UInt8
    public let json: Data

    /// Nil for an empty input (no selector byte).
    public init?(_ input: Data) {
        guard let selector = input.first else { return nil }
        self.selector = selector
        kind = Kind.allCases[Int(selector) % Kind.allCases.count]
        json = Data(input.dropFirst())
    }

    /// The decoder the model loader uses for diffusers' snake_case config files.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}
