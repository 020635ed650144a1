import TensorCore

/// PyTorch `nn.Conv2d` (square kernels, symmetric padding).
public struct Conv2d {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int

    public init(_ path: WeightPath, in inChannels: Int, out outChannels: Int, kernel: Int,
                stride: Int = 1, padding: Int = 0, bias hasBias: Bool = true) throws {
        weight = try path.tensor("weight", [outChannels, inChannels, kernel, kernel])
        bias = hasBias ? try path.tensor("bias", [outChannels], randomFill: 0) : nil
        self.stride = stride
        self.padding = padding
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv2d(weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding))
    }
}
