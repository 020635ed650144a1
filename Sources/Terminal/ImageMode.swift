import Formats
import Foundation

/// How the UI shows images: the kitty graphics protocol, iTerm2 inline images, sixel graphics,
/// Unicode half-blocks, or not at all.
public enum ImageMode: String, CaseIterable, Sendable {
    case kitty
    case iterm
    case sixel
    case blocks
    case none
}

/// What the user asked for: a fixed mode, or `auto` (probe the terminal).
public enum ImageModeSetting: Equatable, Sendable {
    case auto
    case fixed(ImageMode)

    public struct InvalidValue: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses "auto", "kitty", "iterm", "sixel", "blocks" or "none"; `source` names where it came from, for the error.
    public init(parsing text: String, source: String) throws {
        let value = text.lowercased().trimmingCharacters(in: .whitespaces)
        if value == "auto" {
            self = .auto
        } else if let mode = ImageMode(rawValue: value) {
            self = .fixed(mode)
        } else {
            throw InvalidValue(description: "\(source): unknown image mode '\(text.terminalSafe)' (use auto, kitty, iterm, sixel, blocks or none)")
        }
    }

    /// The flag wins over the environment variable `PHOTOVERSE_IMAGES`; neither means auto.
    public static func resolve(flag: String?, environment: [String: String]) throws -> ImageModeSetting {
        if let flag { return try ImageModeSetting(parsing: flag, source: "--images") }
        if let value = environment["PHOTOVERSE_IMAGES"], !value.isEmpty {
            return try ImageModeSetting(parsing: value, source: "PHOTOVERSE_IMAGES")
        }
        return .auto
    }
}
