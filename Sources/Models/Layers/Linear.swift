import TensorCore

/// PyTorch `nn.Linear`: weight [out, in], optional bias [out].
public struct Linear {
    /// As the file stored it (half-resident in large models; see `LayerWeight`).
    public let storedWeight: LayerWeight
    public let bias: Tensor?
    /// The weight path it was loaded from ("" when built from tensors): LoRA deltas find it by this.
    public let path: String

    public init(_ path: WeightPath, in inFeatures: Int, out outFeatures: Int, bias hasBias: Bool = true) throws {
        storedWeight = try path.weight("weight", [outFeatures, inFeatures])
        bias = hasBias ? try path.tensor("bias", [outFeatures], randomFill: 0) : nil
        self.path = path.prefix
        path.recordAdaptable(.linear(path.prefix, in: inFeatures, out: outFeatures))
    }

    public init(weight: Tensor, bias: Tensor?) {
        storedWeight = LayerWeight(weight)
        self.bias = bias
        path = ""
    }

    /// The weight as Float32 (a widened copy when it is half-resident).
    public var weight: Tensor { storedWeight.float32() }
    public var inFeatures: Int { storedWeight.shape[1] }
    public var outFeatures: Int { storedWeight.shape[0] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        storedWeight.withFloat32 { x.linear(weight: $0, bias: bias) }
    }

    /// With this run's LoRA deltas for the layer, if any, added to the output.
    public func callAsFunction(_ x: Tensor, _ deltas: LayerDeltas) -> Tensor {
        guard let found = deltas[path] else { return self(x) }
        return found.reduce(self(x)) { $0 + $1.linear(x) }
    }
}
