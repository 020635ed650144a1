import TensorCore

/// insightface's IBasicBlock: BN -> conv3x3 -> BN -> PReLU -> conv3x3 (stride) -> BN, plus the
/// input (through conv1x1 + BN when the block changes width or stride).
struct IBasicBlock {
    let inputNorm: FoldedBatchNorm
    let conv1: ConvBatchNorm
    let slopes: Tensor
    let conv2: ConvBatchNorm
    let downsample: ConvBatchNorm?

    init(_ path: WeightPath, in inChannels: Int, out outChannels: Int, stride: Int, eps: Float) throws {
        inputNorm = try FoldedBatchNorm(path("bn1"), channels: inChannels, eps: eps)
        conv1 = try ConvBatchNorm(conv: path("conv1"), norm: path("bn2"), in: inChannels, out: outChannels, kernel: 3, stride: 1, eps: eps)
        slopes = try path("prelu").tensor("weight", [outChannels], randomFill: 0.25)
        conv2 = try ConvBatchNorm(conv: path("conv2"), norm: path("bn3"), in: outChannels, out: outChannels, kernel: 3,
                                  stride: stride, eps: eps)
        downsample = stride != 1 || inChannels != outChannels
            ? try ConvBatchNorm(conv: path("downsample")(0), norm: path("downsample")(1), in: inChannels, out: outChannels,
                                kernel: 1, stride: stride, eps: eps)
            : nil
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let main = conv2(conv1(inputNorm(x)).prelu(slopes: slopes))
        return main + (downsample.map { $0(x) } ?? x)
    }
}
