import TensorCore

/// PyTorch `nn.LayerNorm` over the last axis.
public struct LayerNorm {
    public let eps: Float
    public let weight: Tensor
    public let bias: Tensor

    public init(_ path: WeightPath, features: Int, eps: Float) throws {
        self.eps = eps
        weight = try path.tensor("weight", [features], randomFill: 1)
        bias = try path.tensor("bias", [features], randomFill: 0)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight, bias: bias, eps: eps) }
}
