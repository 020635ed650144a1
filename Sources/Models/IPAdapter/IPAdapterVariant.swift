import Foundation
import Formats

/// The IP-Adapter SD1.5 variants people use, told apart by the names of their `image_proj`
/// tensors (the attention side, `to_k_ip`/`to_v_ip`, is the same for all).
public enum IPAdapterVariant: String, CaseIterable, Sendable {
    /// ip-adapter_sd15(-light): the pooled image embedding projected to 4 tokens.
    case plain = "ip-adapter"
    /// ip-adapter-plus(-face)_sd15: the Resampler (perceiver) over the penultimate hidden states.
    case plus = "ip-adapter-plus"
    /// ip-adapter-full-face_sd15: an MLP over every token of the penultimate hidden states.
    case fullFace = "ip-adapter-full-face"
    /// ip-adapter-faceid_sd15: an ArcFace embedding projected to tokens (companion LoRA).
    case faceID = "ip-adapter-faceid"
    /// ip-adapter-faceid-plus(v2)_sd15: ArcFace tokens attending to the penultimate hidden
    /// states; Plus-v2 adds the shortcut (ArcFace tokens + scale · output).
    case faceIDPlus = "ip-adapter-faceid-plus"

    public var title: String {
        switch self {
        case .plain: return "IP-Adapter (image embedding)"
        case .plus: return "IP-Adapter Plus / Plus-Face (Resampler over hidden_states[-2])"
        case .fullFace: return "IP-Adapter Full-Face (MLP over hidden_states[-2])"
        case .faceID: return "IP-Adapter FaceID (ArcFace embedding)"
        case .faceIDPlus: return "IP-Adapter FaceID-Plus / Plus-v2 (ArcFace embedding + hidden_states[-2])"
        }
    }

    /// What it reads: the CLIP image encoder (all but FaceID), an ArcFace embedding (FaceID's).
    public var needsImageEncoder: Bool { self != .faceID }
    public var needsFaceEmbedding: Bool { self == .faceID || self == .faceIDPlus }
    /// The encoder's `hidden_states[-2]` (all tokens) instead of its pooled, projected embedding.
    public var readsPenultimateStates: Bool { self == .plus || self == .fullFace || self == .faceIDPlus }
    /// Takes no image embeds: the image encoder is loaded without `visual_projection`.
    public var needsVisualProjection: Bool { self == .plain }

    /// What the file needs alongside it, for `inspect` and errors.
    public var needs: String {
        switch self {
        case .plain: return "a CLIP image encoder with its visual projection (--image-encoder)"
        case .plus, .fullFace: return "a CLIP image encoder (--image-encoder) and a reference photo"
        case .faceID: return "an ArcFace face embedding (--face-embedding FILE); its companion LoRA"
        case .faceIDPlus: return "an ArcFace face embedding (--face-embedding FILE), a CLIP image encoder and a reference photo; its companion LoRA"
        }
    }
}

/// How an IP-Adapter file names its tensors.
public enum IPAdapterLayout: String, Sendable {
    /// The IP-Adapter repository's `.bin` (`{"image_proj": ..., "ip_adapter": ...}`) converted to
    /// safetensors by training/convert_checkpoint.py (or its own `.safetensors`): `image_proj.*`,
    /// `ip_adapter.{k}.to_k_ip.weight` with k counting every attention processor.
    case published
    /// As diffusers holds it after `load_ip_adapter`: the UNet's `encoder_hid_proj.image_projection_layers.0.*`
    /// and `<attn2 path>.processor.to_{k,v}_ip.0.weight`.
    case diffusers
}

public struct IPAdapterKind: Equatable, Sendable {
    public let variant: IPAdapterVariant
    public let layout: IPAdapterLayout

    public init(variant: IPAdapterVariant, layout: IPAdapterLayout) {
        self.variant = variant
        self.layout = layout
    }

    /// The prefix of the image projection's tensors in this layout.
    public var projectionPrefix: String {
        layout == .published ? "image_proj" : "encoder_hid_proj.image_projection_layers.0"
    }

    public static let diffusersProjection = "encoder_hid_proj.image_projection_layers"

    /// The one place that reads a file's tensor names and says which variant it holds: nil when
    /// nothing in it belongs to an IP-Adapter, an error naming the file when its image
    /// projection matches no variant. `shape` gives a stored tensor's shape (Full-Face and FaceID
    /// have the same names in diffusers' layout and differ by it).
    public static func recognise(_ names: Set<String>, shape: (String) -> [Int]?, file: String) throws -> IPAdapterKind? {
        let published = names.contains { $0.hasPrefix("image_proj.") || $0.hasPrefix("ip_adapter.") }
        let diffusers = names.contains { $0.hasPrefix(diffusersProjection + ".") || $0.contains(".processor.to_k_ip.") }
        guard published || diffusers else { return nil }
        let expected = "expected image_proj.proj.weight (IP-Adapter), image_proj.latents (Plus, Plus-Face), image_proj.proj.3.weight "
            + "(Full-Face), image_proj.proj.0.weight with image_proj.norm.weight (FaceID), image_proj.perceiver_resampler.* "
            + "(FaceID-Plus), or the same under \(diffusersProjection).0 (diffusers' layout)"
        if published && diffusers {
            throw ModelError.invalidInput("\(file.terminalSafe): mixes IP-Adapter's published names (image_proj.*, ip_adapter.*) with diffusers' (\(diffusersProjection).*, *.processor.to_k_ip.*)")
        }
        if published {
            func has(_ name: String) -> Bool { names.contains("image_proj.\(name)") }
            let variant: IPAdapterVariant
            if has("perceiver_resampler.proj_in.weight") { variant = .faceIDPlus }
            else if has("latents") { variant = .plus }
            else if has("proj.3.weight") { variant = .fullFace }
            else if has("proj.0.weight"), has("norm.weight") { variant = .faceID }
            else if has("proj.weight") { variant = .plain }
            else { throw ModelError.invalidInput("\(file.terminalSafe): an IP-Adapter file whose image_proj.* matches no SD1.5 variant; \(expected)") }
            return IPAdapterKind(variant: variant, layout: .published)
        }
        let prefix = diffusersProjection + ".0."
        if names.contains(where: { $0.hasPrefix(diffusersProjection + ".") && !$0.hasPrefix(prefix) }) {
            throw ModelError.invalidInput("\(file.terminalSafe): holds several IP-Adapters (\(diffusersProjection).1.*); give one adapter per file")
        }
        func has(_ name: String) -> Bool { names.contains(prefix + name) }
        let variant: IPAdapterVariant
        if has("proj_in.weight"), has("proj.net.0.proj.weight") { variant = .faceIDPlus }
        else if has("latents") { variant = .plus }
        else if has("image_embeds.weight") { variant = .plain }
        else if has("ff.net.2.weight"), has("norm.weight"),
                let out = shape(prefix + "ff.net.2.weight"), let norm = shape(prefix + "norm.weight"), out.count == 2, norm.count == 1 {
            // Full-Face keeps one token per input token; FaceID makes several from one embedding.
            variant = out[0] == norm[0] ? .fullFace : .faceID
        } else {
            throw ModelError.invalidInput("\(file.terminalSafe): an IP-Adapter file whose \(diffusersProjection).0.* matches no SD1.5 variant; \(expected)")
        }
        return IPAdapterKind(variant: variant, layout: .diffusers)
    }
}
