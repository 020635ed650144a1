/// Whether F16-stored layer weights (Linear, Conv2d) stay in half precision in memory and are
/// widened for each product (`LayerWeight`), or are widened once at load.
public enum WeightResidence: String, Sendable, CaseIterable {
    /// Half for components with more than `automaticThreshold` bytes of F16 weights (SD1.5's
    /// UNet, text encoder and VAE), Float32 for small ones (PhotoVerse-mini, test models),
    /// where widening per product would cost more time than the memory is worth.
    case automatic
    case half
    case float

    public static let automaticThreshold = 64 << 20

    /// Whether a component with `halfPrecisionBytes` of F16 weights keeps them half.
    public func keepsHalf(halfPrecisionBytes: Int) -> Bool {
        switch self {
        case .automatic: return halfPrecisionBytes > Self.automaticThreshold
        case .half: return true
        case .float: return false
        }
    }
}
