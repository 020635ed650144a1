import TensorCore

/// The BlazeFace network (MediaPipe's short-range face detector) built from its config:
/// a strided stem convolution, BlazeBlocks, and SSD heads on two feature maps.
///
/// Output order is MediaPipe's: the heads' maps read cell by cell (rows, then columns, then
/// the cell's anchors), the finer grid first, so index i lines up with anchor i.
public struct BlazeFaceNetwork {
    public let config: FaceDetectorConfig
    let stemWeight: Tensor
    let stemBias: Tensor
    let stemPadding: SpatialPadding
    let blocks: [BlazeBlock]
    let classifiers: [Conv2d]
    let regressors: [Conv2d]

    public init(_ root: WeightPath, config: FaceDetectorConfig) throws {
        self.config = config
        let stem = config.stem
        stemWeight = try root("stem").tensor("weight", [stem.outChannels, stem.inChannels, stem.kernel, stem.kernel])
        stemBias = try root("stem").tensor("bias", [stem.outChannels], randomFill: 0)
        stemPadding = SpatialPadding(top: stem.padding[0], bottom: stem.padding[1], left: stem.padding[0], right: stem.padding[1])
        blocks = try config.blocks.enumerated().map { try BlazeBlock(root("blocks")($0.offset), $0.element) }
        classifiers = try config.heads.map {
            try Conv2d(root($0.classifier), in: $0.inChannels, out: $0.anchorsPerCell, kernel: 1)
        }
        regressors = try config.heads.map {
            try Conv2d(root($0.regressor), in: $0.inChannels, out: $0.anchorsPerCell * $0.coords, kernel: 1)
        }
    }

    /// Runs the network on [1, 3, size, size] values in [-1, 1]. Returns the raw score logits
    /// (one per anchor) and the raw regressors (num_coords per anchor, anchor-major).
    public func callAsFunction(_ input: Tensor) -> (scores: [Float], regressors: [Float]) {
        let size = config.inputSize
        precondition(input.shape == [1, config.stem.inChannels, size, size],
                     "BlazeFace input must be [1, \(config.stem.inChannels), \(size), \(size)], got \(input.shape)")
        var x = input.padded(top: stemPadding.top, bottom: stemPadding.bottom, left: stemPadding.left, right: stemPadding.right)
            .conv2d(weight: stemWeight, bias: stemBias, stride: (config.stem.stride, config.stem.stride))
            .relu()
        var taps: [Int: Tensor] = [:]
        for (index, block) in blocks.enumerated() {
            x = block(x)
            taps[index] = x
        }
        var scores: [Float] = [], boxes: [Float] = []
        for (index, head) in config.heads.enumerated() {
            let feature = taps[head.block]!
            // NCHW -> NHWC, then flat: cell-major, the cell's anchors (and their coords) together.
            scores += classifiers[index](feature).permuted([0, 2, 3, 1]).scalars
            boxes += regressors[index](feature).permuted([0, 2, 3, 1]).scalars
        }
        return (scores, boxes)
    }
}
