import TensorCore

/// PyTorch `nn.GroupNorm` with affine parameters.
public struct GroupNorm {
    public let groups: Int
    public let eps: Float
    public let weight: Tensor
    public let bias: Tensor

    public init(_ path: WeightPath, groups: Int, channels: Int, eps: Float) throws {
        self.groups = groups
        self.eps = eps
        weight = try path.tensor("weight", [channels], randomFill: 1)
        bias = try path.tensor("bias", [channels], randomFill: 0)
    }

    /// `silu`: SiLU in the same pass (ResNet blocks and output heads norm, then SiLU).
    public func callAsFunction(_ x: Tensor, silu: Bool = false) -> Tensor {
        x.groupNorm(groups: groups, weight: weight, bias: bias, eps: eps, silu: silu)
    }
}
