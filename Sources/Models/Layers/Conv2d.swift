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

    /// self(SiLU(norm(x))) in one step where it saves memory (stride-1 3x3 convolutions on the
    /// Winograd path read the normalised input without making it): ResNet blocks' pattern. A
    /// LoRA delta on the layer needs the normalised input itself, so then it is made.
    public func afterNormSiLU(_ norm: GroupNorm, _ x: Tensor, _ deltas: LayerDeltas = .none) -> Tensor {
        guard storedWeight.shape[2] == 3, stride == 1, deltas[path] == nil else { return self(norm(x, silu: true), deltas) }
        return storedWeight.withFloat32 {
            x.normSiLUConv3x3(groups: norm.groups, normWeight: norm.weight, normBias: norm.bias, eps: norm.eps,
                              weight: $0, bias: bias, padding: padding)
        }
    }

    /// self(nearest-2x upsample of x) without making the upsampled tensor where the Winograd
    /// path can read it in place (up blocks' pattern); a LoRA delta needs it, so then it is made.
    public func afterUpsample2x(_ x: Tensor, _ deltas: LayerDeltas = .none) -> Tensor {
        guard storedWeight.shape[2] == 3, stride == 1, deltas[path] == nil else { return self(x.upsampleNearest2x(), deltas) }
        return storedWeight.withFloat32 { x.upsampleNearest2xConv3x3(weight: $0, bias: bias, padding: padding) }
    }
}
