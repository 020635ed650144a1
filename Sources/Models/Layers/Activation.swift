import TensorCore

/// The activation names used by transformers/diffusers configs.
public enum Activation: String, Decodable {
    case quickGelu = "quick_gelu"
    case gelu
    case geluTanh = "gelu_pytorch_tanh"
    case geluNew = "gelu_new"
    case silu
    case swish
    case relu

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .quickGelu: return x.quickGelu()
        case .gelu: return x.gelu()
        case .geluTanh, .geluNew: return x.geluTanh()
        case .silu, .swish: return x.silu()
        case .relu: return x.relu()
        }
    }
}
