import TensorCore

/// insightface's IResNet (the ArcFace recognition network), built from its config and read
/// from PyTorch's names: conv1/bn1/prelu, layer1..4 of IBasicBlocks (the first of each stage
/// has stride 2), bn2, flatten, fc, features (BatchNorm1d). BatchNorms after a convolution are
/// folded into it; the others run as a per-channel scale and shift. Dropout is inference's
/// identity.
public struct IResNet {
    public let config: ArcFaceConfig
    let stem: ConvBatchNorm
    let stemSlopes: Tensor
    let stages: [[IBasicBlock]]
    let outputNorm: FoldedBatchNorm
    let fc: Linear
    let features: FoldedBatchNorm

    public init(_ root: WeightPath, config: ArcFaceConfig) throws {
        self.config = config
        let eps = config.bnEps, widths = config.widths
        stem = try ConvBatchNorm(conv: root("conv1"), norm: root("bn1"), in: 3, out: widths[0], kernel: 3, stride: 1, eps: eps)
        stemSlopes = try root("prelu").tensor("weight", [widths[0]], randomFill: 0.25)
        var channels = widths[0]
        var stages: [[IBasicBlock]] = []
        for (index, (width, count)) in zip(widths, config.layers).enumerated() {
            let layer = root("layer\(index + 1)")
            stages.append(try (0..<count).map { block in
                let made = try IBasicBlock(layer(block), in: block == 0 ? channels : width, out: width,
                                           stride: block == 0 ? 2 : 1, eps: eps)
                return made
            })
            channels = width
        }
        self.stages = stages
        outputNorm = try FoldedBatchNorm(root("bn2"), channels: channels, eps: eps)
        let side = config.finalSide
        fc = try Linear(root("fc"), in: channels * side * side, out: config.embeddingSize)
        features = try FoldedBatchNorm(root("features"), channels: config.embeddingSize, eps: eps)
    }

    /// [N, 3, size, size] normalised RGB -> [N, embedding_size], not normalised.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let size = config.inputSize
        precondition(input.rank == 4 && Array(input.shape.dropFirst()) == [3, size, size],
                     "IResNet input must be [N, 3, \(size), \(size)], got \(input.shape)")
        var x = stem(input).prelu(slopes: stemSlopes)
        for stage in stages {
            for block in stage { x = block(x) }
        }
        x = outputNorm(x)
        return features(fc(x.reshaped([x.shape[0], x.count / x.shape[0]])))
    }
}
