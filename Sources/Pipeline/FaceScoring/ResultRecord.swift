import Foundation
import Formats

/// What a run produced beyond the image, as a result's PNG (`photoverse-result` chunk) and
/// `photoverse generate --json` record it. Kept apart from the request: loading a PNG's
/// request never depends on it.
public struct ResultRecord: Codable, Equatable, Sendable {
    public static let pngKey = "photoverse-result"

    public var identityScore: IdentityScore?

    public init(identityScore: IdentityScore?) {
        self.identityScore = identityScore
    }

    enum CodingKeys: String, CodingKey {
        case identityScore = "identity_score"
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The record a PhotoVerse PNG carries, or nil (older results, other PNGs, a damaged chunk).
    public static func load(from url: URL) -> ResultRecord? {
        guard let text = try? PNGCodec.readText(url)[pngKey] else { return nil }
        return try? JSONDecoder().decode(ResultRecord.self, from: Data(text.utf8))
    }
}
