import TensorCore

/// PyTorch `nn.Linear`: weight [out, in], optional bias [out].
public struct Linear {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ path: WeightPath, in inFeatures: Int, out outFeatures: Int, bias hasBias: Bool = true) throws {
        weight = try path.tensor("weight", [outFeatures, inFeatures])
        bias = hasBias ? try path.tensor("bias", [outFeatures], randomFill: 0) : nil
    }

    public init(weight: Tensor, bias: Tensor?) {
        self.weight = weight
        self.bias = bias
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.linear(weight: weight, bias: bias) }
}
