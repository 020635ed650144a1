import Foundation
import Formats

/// Scores results against the request's reference photos with one scorer, keeping each
/// reference's embedding (a session scores many results of the same person).
public final class IdentityScoring: @unchecked Sendable {
    public let scorer: FaceScorer
    private var references: [String: [Float]?] = [:]
    private let lock = NSLock()

    public init(scorer: FaceScorer) {
        self.scorer = scorer
    }

    /// The mean score of `image` against the request's references that show a face; nil
    /// when the request has no reference, or no face is found in the image or any reference.
    public func score(_ image: RGBImage, for request: GenerationRequest) -> IdentityScore? {
        let embeddings = request.identity.references.compactMap { reference(at: $0.path) }
        guard !embeddings.isEmpty, let generated = scorer.embedding(of: image, isReference: false) else { return nil }
        let scores = embeddings.map { scorer.score(generated, $0) }
        let distances = scores.compactMap(\.distance)
        return IdentityScore(match: scores.map(\.match).reduce(0, +) / Double(scores.count), scorer: scorer.name,
                             distance: distances.count == scores.count ? distances.reduce(0, +) / Double(scores.count) : nil,
                             references: scores.count)
    }

    private func reference(at path: String) -> [Float]? {
        lock.lock()
        if let known = references[path] {
            lock.unlock()
            return known
        }
        lock.unlock()
        let embedding = (try? ImageFile.load(URL(fileURLWithPath: path))).flatMap { scorer.embedding(of: $0, isReference: true) }
        lock.lock()
        references[path] = .some(embedding)
        lock.unlock()
        return embedding
    }
}
