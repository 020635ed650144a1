import Formats
import Models
import TensorCore

/// The identity part of a request: reference faces and the PhotoVerse knobs.
public struct Personalization {
    /// Prepared references (cropped and masked, at the image encoder's input size);
    /// several photos of one person have their encoder features averaged.
    public var references: [RGBImage]
    /// γ: weight of the text attention in every cross-attention layer.
    public var textWeight: Float = 1
    /// σ: weight of the image attention (0 turns the image branch off).
    public var imageWeight: Float = 1
    /// α: scale of the LoRA update on the text keys/values.
    public var loraScale: Float = 1
    /// m: how many pseudo-words replace each `S*` (1 ... the adapter's layer count); nil = the adapter's default (1, as the paper infers).
    public var pseudoWords: Int?
    /// The image branch is active for denoising steps whose position i/N lies in [imageStart, imageEnd).
    public var imageStart: Double = 0
    public var imageEnd: Double = 1
    /// s_I, the identity's guidance scale; nil = the prompt's (ordinary two-pass guidance).
    public var identityGuidance: Float?
    /// IP-Adapter FaceID: the face's ArcFace embedding [1, D] (what diffusers' `ip_adapter_image_embeds` takes).
    public var faceEmbedding: Tensor?
    /// IP-Adapter FaceID-Plus: nil = no shortcut; a value = Plus-v2's shortcut with that scale.
    public var shortcutScale: Float?
    /// The image input of ε(∅); nil = the adapter's metadata (`zero_tokens` unless it says otherwise).
    public var unconditionalImage: AdapterMetadata.UnconditionalImage?

    public init(references: [RGBImage]) { self.references = references }

    /// Whether the image branch runs at step `index` of `total`.
    public func imageBranchActive(step index: Int, of total: Int) -> Bool {
        let position = Double(index) / Double(max(total, 1))
        return position >= imageStart && position < imageEnd
    }
}
