/// A layer a low-rank delta can adapt, as the model built it: a Linear, or a Conv2d with its
/// kernel, stride and padding (a LoCon down factor convolves the way the layer does).
/// The weight loader records one per `Linear`/`Conv2d`, so a LoRA file is matched against
/// the layers the model really has, whatever its config.
public struct AdaptableLayer: Equatable, Sendable {
    /// The full weight path, `down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q`:
    /// how the layer finds its deltas at run time.
    public let path: String
    public let inFeatures: Int
    public let outFeatures: Int
    /// 0 for a Linear; the square kernel size for a Conv2d.
    public let kernel: Int
    public let stride: Int
    public let padding: Int

    public var isConvolution: Bool { kernel > 0 }

    public static func linear(_ path: String, in inFeatures: Int, out outFeatures: Int) -> AdaptableLayer {
        AdaptableLayer(path: path, inFeatures: inFeatures, outFeatures: outFeatures, kernel: 0, stride: 1, padding: 0)
    }
}
