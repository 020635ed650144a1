import TensorCore

/// Everything the UNet's cross-attention layers attend to during one generation:
/// the text states, optionally PhotoVerse's image tokens with per-layer adapters, and
/// the branch weights: O = γ · Attn(Q, K_T, V_T) + σ · Attn(Q, K_S, V_S), with
/// K_T = W_k p + α · B_k A_k p (likewise V).
///
/// The keys and values do not change between denoising steps, so each layer computes
/// them once and keeps them here; σ may change per step (the image branch's active
/// window), γ and α are fixed for the generation.
public final class CrossAttentionConditioning {
    public let text: Tensor                 // [N, L, crossAttentionDim]
    public let imageTokens: Tensor?         // [N, T, crossAttentionDim]; zeros for an unconditional row
    public let adapters: [String: CrossAttentionAdapter]   // by attn2 weight path
    public let textWeight: Float            // γ
    public var imageWeight: Float           // σ; 0 switches the image branch off exactly
    public let loraScale: Float             // α

    struct KeysValues {
        let key: Tensor, value: Tensor
        let imageKey: Tensor?, imageValue: Tensor?
    }
    private var cache: [String: KeysValues] = [:]

    public init(text: Tensor, imageTokens: Tensor? = nil, adapters: [String: CrossAttentionAdapter] = [:],
                textWeight: Float = 1, imageWeight: Float = 1, loraScale: Float = 1) {
        if let imageTokens {
            precondition(imageTokens.shape[0] == text.shape[0] && imageTokens.shape[2] == text.shape[2],
                         "image tokens \(imageTokens.shape) do not match text states \(text.shape)")
        }
        self.text = text
        self.imageTokens = imageTokens
        self.adapters = adapters
        self.textWeight = textWeight
        self.imageWeight = imageWeight
        self.loraScale = loraScale
    }

    /// Plain text conditioning (no adapters): what text-to-image uses.
    public convenience init(text: Tensor) { self.init(text: text, imageTokens: nil) }

    var batch: Int { text.shape[0] }

    /// The keys and values for the layer at `path`, computed on first use (a run's LoRA deltas
    /// do not change between its steps either).
    func keysValues(for path: String, key: Linear, value: Linear, deltas: LayerDeltas) -> KeysValues {
        if let cached = cache[path] { return cached }
        let adapter = adapters[path]
        var k = key(text, deltas), v = value(text, deltas)
        if let lora = adapter?.keyLoRA, loraScale != 0 { k = k + lora.delta(text, scale: loraScale) }
        if let lora = adapter?.valueLoRA, loraScale != 0 { v = v + lora.delta(text, scale: loraScale) }
        var imageK: Tensor?, imageV: Tensor?
        if let imageTokens, let wk = adapter?.imageKey, let wv = adapter?.imageValue {
            imageK = wk(imageTokens)
            imageV = wv(imageTokens)
        }
        let computed = KeysValues(key: k, value: v, imageKey: imageK, imageValue: imageV)
        cache[path] = computed
        return computed
    }
}
