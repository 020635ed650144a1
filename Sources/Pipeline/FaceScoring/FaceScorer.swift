import Formats

/// A face-identity network that scores how alike two faces are: it embeds the main face of an
/// image (nil when it finds none) and compares two embeddings.
public protocol FaceScorer: AnyObject, Sendable {
    /// How the score names it: "dlib", "mini evaluator".
    var name: String { get }
    /// The embedding of the image's face; `isReference` picks where a scorer without a face
    /// detector looks (the model's reference layout vs its generations).
    func embedding(of image: RGBImage, isReference: Bool) -> [Float]?
    func score(_ generated: [Float], _ reference: [Float]) -> IdentityScore
}
