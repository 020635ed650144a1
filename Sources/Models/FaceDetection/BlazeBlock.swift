import TensorCore

/// BlazeFace's residual unit: depthwise kxk (stride 1 or 2) then pointwise 1x1 on the main
/// path; on the skip path a 2x2 max-pool when striding and zero channels appended when
/// widening; the sum goes through ReLU.
struct BlazeBlock {
    let depthwiseWeight: Tensor
    let depthwiseBias: Tensor
    let pointwise: Conv2d
    let stride: Int
    let padding: SpatialPadding
    let extraChannels: Int

    init(_ path: WeightPath, _ config: FaceDetectorConfig.Block) throws {
        let k = config.kernel
        depthwiseWeight = try path("depthwise").tensor("weight", [config.inChannels, 1, k, k])
        depthwiseBias = try path("depthwise").tensor("bias", [config.inChannels], randomFill: 0)
        pointwise = try Conv2d(path("pointwise"), in: config.inChannels, out: config.outChannels, kernel: 1)
        stride = config.stride
        padding = SpatialPadding(top: config.padding[0], bottom: config.padding[1],
                                 left: config.padding[0], right: config.padding[1])
        extraChannels = config.outChannels - config.inChannels
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let main = pointwise(x.depthwiseConv2d(weight: depthwiseWeight, bias: depthwiseBias,
                                               stride: (stride, stride), padding: padding))
        var skip = stride == 2 ? x.maxPool2d(kernel: (2, 2)) : x
        if extraChannels > 0 {
            let zeros = Tensor(shape: [skip.shape[0], extraChannels, skip.shape[2], skip.shape[3]])
            skip = Tensor.concat([skip, zeros], axis: 1)
        }
        return (main + skip).relu()
    }
}
