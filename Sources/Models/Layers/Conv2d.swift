import TensorCore

/// PyTorch `nn.Conv2d` (square kernels, symmetric padding).
public struct Conv2d {
    /// As the file stored it (half-resident in large models; see `LayerWeight`).
    public let storedWeight: LayerWeight
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int
    /// The weight path it was loaded from: LoRA (LoCon) deltas find it by this.
    public let path: String

    public init(_ path: WeightPath, in inChannels: Int, out outChannels: Int, kernel: Int,
                stride: Int = 1, padding: Int = 0, bias hasBias: Bool = true) throws {
        storedWeight = try path.weight("weight", [outChannels, inChannels, kernel, kernel])
        bias = hasBias ? try path.tensor("bias", [outChannels], randomFill: 0) : nil
        self.stride = stride
        self.padding = padding
        self.path = path.prefix
        path.recordAdaptable(AdaptableLayer(path: path.prefix, inFeatures: inChannels, outFeatures: outChannels,
                                            kernel: kernel, stride: stride, padding: padding))
    }

    /// The weight as Float32 (a widened copy when it is half-resident).
    public var weight: Tensor { storedWeight.float32() }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        storedWeight.withFloat32 {
            x.conv2d(weight: $0, bias: bias, stride: (stride, stride), padding: (padding, padding))
        }
    }

    /// With this run's LoRA deltas for the layer, if any, added to the output.
    public func callAsFunction(_ x: Tensor, _ deltas: LayerDeltas) -> Tensor {
        guard let found = deltas[path] else { return self(x) }
        return found.reduce(self(x)) { $0 + $1.convolution(x, stride: stride, padding: padding) }
    }
}
