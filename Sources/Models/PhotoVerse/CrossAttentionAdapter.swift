import TensorCore

/// What PhotoVerse (or IP-Adapter) adds to one attn2 of the UNet: key/value projections
/// for the image tokens (K_S = W_k^S f, V_S = W_v^S f) and LoRA on the text keys/values.
public struct CrossAttentionAdapter {
    public let imageKey: Linear?, imageValue: Linear?
    public let keyLoRA: LoRA?, valueLoRA: LoRA?

    public init(imageKey: Linear?, imageValue: Linear?, keyLoRA: LoRA?, valueLoRA: LoRA?) {
        self.imageKey = imageKey
        self.imageValue = imageValue
        self.keyLoRA = keyLoRA
        self.valueLoRA = valueLoRA
    }
}
