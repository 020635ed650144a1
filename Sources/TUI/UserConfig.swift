import Foundation

/// What the UI remembers between runs (photoverse/config.json in the XDG config folder).
public struct UserConfig: Codable, Equatable {
    public var settings = GenerationSettings()
    public var outputFolder: String?
    public var theme: String?
    /// Where the reference picker opened last.
    public var browseFolder: String?
    public var promptHistory: [String] = []
    public var negativeHistory: [String] = []

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        settings = (try? c.decodeIfPresent(GenerationSettings.self, forKey: .settings)) ?? GenerationSettings()
        outputFolder = try? c.decodeIfPresent(String.self, forKey: .outputFolder)
        theme = try? c.decodeIfPresent(String.self, forKey: .theme)
        browseFolder = try? c.decodeIfPresent(String.self, forKey: .browseFolder)
        promptHistory = ((try? c.decodeIfPresent([String].self, forKey: .promptHistory)) ?? nil) ?? []
        negativeHistory = ((try? c.decodeIfPresent([String].self, forKey: .negativeHistory)) ?? nil) ?? []
    }
}
