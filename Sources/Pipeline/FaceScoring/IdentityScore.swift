import Foundation

/// How much a result looks like the reference person, by a named face-identity network.
///
/// `match` is 0...1 and means, per scorer:
/// - "dlib": 1 − d / 1.2 (clamped), d = the Euclidean distance of dlib's 128-d descriptors;
///   dlib calls two faces the same person below d = 0.6, which is match 0.5 here, so above
///   0.5 dlib would say "same person";
/// - "mini evaluator": the cosine of PhotoVerse-mini's evaluator embeddings (the "ID
///   similarity" of training/RESULTS.md; drawn faces only).
/// A result without a score has none (no face found, or no scorer fits the model), never 0.
public struct IdentityScore: Codable, Equatable, Sendable, CustomStringConvertible {
    public var match: Double
    public var scorer: String
    /// dlib: the descriptor distance the match comes from.
    public var distance: Double?
    /// How many reference photos had a face (the match is their mean).
    public var references: Int

    public init(match: Double, scorer: String, distance: Double? = nil, references: Int = 1) {
        self.match = (match * 100).rounded() / 100
        self.scorer = scorer
        self.distance = distance.map { ($0 * 1000).rounded() / 1000 }
        self.references = references
    }

    /// "face match 0.82, dlib".
    public var description: String { "face match \(String(format: "%.2f", match)), \(scorer)" }

    /// "0.82" for tight places (a sweep cell, a thumbnail).
    public var shortText: String { String(format: "%.2f", match) }

    /// As the PNG and the CLI record it.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
