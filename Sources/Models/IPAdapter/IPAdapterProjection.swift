import TensorCore

/// The image projection of an IP-Adapter file, one case per variant: what turns the image
/// encoder's output (and for FaceID an ArcFace embedding) into the image tokens.
public enum IPAdapterProjection {
    case plain(ImageProjection)
    case plus(PerceiverResampler)
    case fullFace(FullFaceProjection)
    case faceID(FaceIDProjection)
    case faceIDPlus(FaceIDPlusProjection)

    /// What a variant reads; the unused fields stay nil.
    public struct Input {
        /// The encoder's image embeds [N, projection_dim] (plain).
        public var imageEmbeds: Tensor?
        /// The encoder's hidden_states[-2] [N, tokens, width] (Plus, Full-Face, FaceID-Plus).
        public var penultimateStates: Tensor?
        /// ArcFace embeddings [N, D] (FaceID, FaceID-Plus).
        public var faceEmbedding: Tensor?
        /// FaceID-Plus: nil = no shortcut; a value = Plus-v2's shortcut with that scale.
        public var shortcutScale: Float?

        public init(imageEmbeds: Tensor? = nil, penultimateStates: Tensor? = nil, faceEmbedding: Tensor? = nil,
                    shortcutScale: Float? = nil) {
            self.imageEmbeds = imageEmbeds
            self.penultimateStates = penultimateStates
            self.faceEmbedding = faceEmbedding
            self.shortcutScale = shortcutScale
        }
    }

    static func load(_ root: WeightPath, kind: IPAdapterKind, crossAttentionDim cross: Int, origin: String) throws -> IPAdapterProjection {
        let path = kind.projectionPrefix.split(separator: ".").reduce(root) { $0(String($1)) }
        switch kind.variant {
        case .plain:
            let name = kind.layout == .published ? "proj" : "image_embeds"
            guard let proj = path(name).storedShape("weight"), proj.count == 2, proj[0] % cross == 0, proj[0] > 0 else {
                throw ModelError.invalidInput("\(origin): \(path(name).prefix).weight is missing or not [tokens·\(cross), embed]")
            }
            return .plain(try ImageProjection(path, projectionName: name, imageEmbedDim: proj[1], crossAttentionDim: cross,
                                              tokens: proj[0] / cross))
        case .plus:
            return .plus(try PerceiverResampler(path, layout: kind.layout, crossAttentionDim: cross, origin: origin))
        case .fullFace:
            return .fullFace(try FullFaceProjection(path, layout: kind.layout, crossAttentionDim: cross, origin: origin))
        case .faceID:
            let published = kind.layout == .published
            return .faceID(try FaceIDProjection(first: published ? path("proj")("0") : path("ff")("net")("0")("proj"),
                                                second: published ? path("proj")("2") : path("ff")("net")("2"),
                                                norm: path("norm"), width: cross, origin: origin))
        case .faceIDPlus:
            return .faceIDPlus(try FaceIDPlusProjection(path, layout: kind.layout, crossAttentionDim: cross, origin: origin))
        }
    }

    public var variant: IPAdapterVariant {
        switch self {
        case .plain: return .plain
        case .plus: return .plus
        case .fullFace: return .fullFace
        case .faceID: return .faceID
        case .faceIDPlus: return .faceIDPlus
        }
    }

    /// The width of the image embeds it reads (plain), nil otherwise.
    public var imageEmbedWidth: Int? {
        if case .plain(let p) = self { return p.imageEmbedDim }
        return nil
    }

    /// The width of the encoder's hidden states it reads, nil when it reads none.
    public var featureWidth: Int? {
        switch self {
        case .plus(let p): return p.featureWidth
        case .fullFace(let p): return p.featureWidth
        case .faceIDPlus(let p): return p.featureWidth
        case .plain, .faceID: return nil
        }
    }

    /// The width of the face embedding it reads (FaceID: ArcFace's 512), nil when it reads none.
    public var faceEmbeddingWidth: Int? {
        switch self {
        case .faceID(let p): return p.embeddingWidth
        case .faceIDPlus(let p): return p.embeddingWidth
        case .plain, .plus, .fullFace: return nil
        }
    }

    /// Image tokens [N, tokens, cross-attention width]. The input must hold what `variant` reads.
    public func callAsFunction(_ input: Input) -> Tensor {
        func need(_ tensor: Tensor?, _ what: String) -> Tensor {
            guard let tensor else { preconditionFailure("\(variant.rawValue) needs \(what)") }
            return tensor
        }
        switch self {
        case .plain(let p): return p(need(input.imageEmbeds, "image embeds"))
        case .plus(let p): return p(need(input.penultimateStates, "hidden_states[-2]"))
        case .fullFace(let p): return p(need(input.penultimateStates, "hidden_states[-2]"))
        case .faceID(let p): return p(need(input.faceEmbedding, "a face embedding"))
        case .faceIDPlus(let p):
            return p(embedding: need(input.faceEmbedding, "a face embedding"),
                     states: need(input.penultimateStates, "hidden_states[-2]"), shortcutScale: input.shortcutScale)
        }
    }
}

/// A low-rank update of one UNet projection as FaceID's file carries it (IP-Adapter's
/// `LoRAAttnProcessor`: no alpha). diffusers' `load_ip_adapter` loads these as the peft adapter
/// `faceid_0` at weight 1; here they join the run's `LayerDeltas` the same way (`companionDeltas`).
public struct IPAdapterLoRAUpdate {
    /// The Linear's weight path, e.g. `down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0`.
    public let target: String
    public let down: Tensor   // [rank, in]
    public let up: Tensor     // [out, rank]
}
