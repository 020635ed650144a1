import TensorCore

/// PyTorch `nn.Linear`: weight [out, in], optional bias [out].
public struct Linear {
    /// As the file stored it (half-resident in large models; see `LayerWeight`).
    public let storedWeight: LayerWeight
    public let bias: Tensor?

    public init(_ path: WeightPath, in inFeatures: Int, out outFeatures: Int, bias hasBias: Bool = true) throws {
        storedWeight = try path.weight("weight", [outFeatures, inFeatures])
        bias = hasBias ? try path.tensor("bias", [outFeatures], randomFill: 0) : nil
    }

    public init(weight: Tensor, bias: Tensor?) {
        storedWeight = LayerWeight(weight)
        self.bias = bias
    }

    /// The weight as Float32 (a widened copy when it is half-resident).
    public var weight: Tensor { storedWeight.float32() }
    public var inFeatures: Int { storedWeight.shape[1] }
    public var outFeatures: Int { storedWeight.shape[0] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        storedWeight.withFloat32 { x.linear(weight: $0, bias: bias) }
    }
}
