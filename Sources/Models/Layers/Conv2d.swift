import TensorCore

/// PyTorch `nn.Conv2d` (square kernels, symmetric padding).
public struct Conv2d {
    /// As the file stored it (half-resident in large models; see `LayerWeight`).
    public let storedWeight: LayerWeight
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int

    public init(_ path: WeightPath, in inChannels: Int, out outChannels: Int, kernel: Int,
                stride: Int = 1, padding: Int = 0, bias hasBias: Bool = true) throws {
        storedWeight = try path.weight("weight", [outChannels, inChannels, kernel, kernel])
        bias = hasBias ? try path.tensor("bias", [outChannels], randomFill: 0) : nil
        self.stride = stride
        self.padding = padding
    }

    /// The weight as Float32 (a widened copy when it is half-resident).
    public var weight: Tensor { storedWeight.float32() }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        storedWeight.withFloat32 {
            x.conv2d(weight: $0, bias: bias, stride: (stride, stride), padding: (padding, padding))
        }
    }
}
