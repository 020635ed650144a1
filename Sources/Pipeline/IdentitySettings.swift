import Foundation
import Models

/// The person in a request: reference photos and PhotoVerse's knobs. The knobs are kept
/// even without references (an editor keeps them while no photo is picked).
public struct IdentitySettings: Codable, Equatable, Sendable {
    /// Photos of one person (their encoder features are averaged); empty = no personalization.
    public var references: [ReferenceSource] = []
    /// An adapter file other than the model's own (PhotoVerse layout, IP-Adapter, converted ELITE),
    /// and the image encoder folder it needs (default: the model's).
    public var adapter: String?
    public var imageEncoder: String?
    /// γ: weight of the text attention in every cross-attention layer.
    public var textWeight: Float = 1
    /// σ: weight of the image attention (0 turns the image branch off).
    public var imageWeight: Float = 1
    /// α: scale of the LoRA update on the text keys/values.
    public var loraScale: Float = 1
    /// m: pseudo-words per `S*` (1 ... the adapter's layers); nil = the adapter's default.
    public var pseudoWords: Int?
    /// The image branch is active for steps whose position i/N lies in [imageStart, imageEnd).
    public var imageStart = 0.0
    public var imageEnd = 1.0
    /// s_I, the identity's guidance scale; nil = the prompt's (ordinary two-pass guidance).
    public var identityGuidance: Float?
    /// IP-Adapter FaceID: a file with the face's ArcFace embedding (.safetensors or .npy, [D] or [1, D]).
    public var faceEmbedding: String?
    /// IP-Adapter FaceID-Plus: nil = no shortcut (FaceID-Plus); a value = Plus-v2's shortcut scale.
    public var shortcutScale: Float?

    public init() {}
}

/// A reference photo and how its face is cut out.
public struct ReferenceSource: Codable, Equatable, Sendable {
    public var path: String
    public var crop: CropMode

    public init(path: String, crop: CropMode) {
        self.path = path
        self.crop = crop
    }
}

extension ReferenceSource {
    /// The crop a reference gets unless one is chosen: `none` for the faces shipped in the
    /// model's `references/` (already its encoder's crops, too small for the detector), else `auto`.
    public static func defaultCrop(for path: String, model: URL) -> CropMode {
        ModelFolder.isShippedReference(URL(fileURLWithPath: path), of: model) ? .none : .auto
    }
}
