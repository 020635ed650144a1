import TensorCore

/// MediaPipe's face-landmark network, built from its config's layer list: each layer reads
/// values written before it (by name) and writes its own, so the two heads that fork from
/// the shared trunk need no special code.
public struct FaceMeshNetwork {
    enum Operation {
        case conv(weight: Tensor, bias: Tensor, stride: Int, padding: SpatialPadding)
        case depthwise(weight: Tensor, bias: Tensor, stride: Int, padding: SpatialPadding)
        case prelu(slopes: Tensor)
        case add(String)
        case maxPool
        case channelPad(Int)
    }

    public let config: FaceMeshConfig
    let steps: [(name: String, input: String, operation: Operation)]

    public init(_ root: WeightPath, config: FaceMeshConfig) throws {
        self.config = config
        steps = try config.layers.map { layer in
            let path = root(layer.name)
            let operation: Operation
            switch layer.op {
            case "conv", "depthwise":
                let cin = layer.inChannels ?? 0, cout = layer.outChannels ?? 0, k = layer.kernel ?? 1
                let p = layer.padding ?? [0, 0, 0, 0]
                let padding = SpatialPadding(top: p[0], bottom: p[1], left: p[2], right: p[3])
                if layer.op == "conv" {
                    operation = .conv(weight: try path.tensor("weight", [cout, cin, k, k]),
                                      bias: try path.tensor("bias", [cout], randomFill: 0), stride: layer.stride ?? 1, padding: padding)
                } else {
                    operation = .depthwise(weight: try path.tensor("weight", [cin, 1, k, k]),
                                           bias: try path.tensor("bias", [cin], randomFill: 0), stride: layer.stride ?? 1, padding: padding)
                }
            case "prelu": operation = .prelu(slopes: try path.tensor("alpha", [layer.channels ?? 0], randomFill: 0.25))
            case "add": operation = .add(layer.inputs[1])
            case "max_pool": operation = .maxPool
            default: operation = .channelPad(layer.extraChannels ?? 0)
            }
            return (layer.name, layer.inputs[0], operation)
        }
    }

    /// Runs on [1, 3, size, size] values in the config's input range; returns the raw
    /// landmark values (x, y, z per landmark, in input pixels) and the presence logit.
    public func callAsFunction(_ input: Tensor) -> (landmarks: [Float], presenceLogit: Float) {
        let size = config.inputSize
        precondition(input.shape == [1, 3, size, size], "face mesh input must be [1, 3, \(size), \(size)], got \(input.shape)")
        // Values are dropped after their last reader, so the trunk's early maps do not all stay alive.
        var lastUse: [String: Int] = [:]
        for (index, step) in steps.enumerated() {
            lastUse[step.input] = index
            if case let .add(other) = step.operation { lastUse[other] = index }
        }
        var values: [String: Tensor] = [config.input: input]
        for (index, step) in steps.enumerated() {
            let x = values[step.input]!
            let y: Tensor
            switch step.operation {
            case let .conv(weight, bias, stride, padding):
                y = x.padded(top: padding.top, bottom: padding.bottom, left: padding.left, right: padding.right)
                    .conv2d(weight: weight, bias: bias, stride: (stride, stride))
            case let .depthwise(weight, bias, stride, padding):
                y = x.depthwiseConv2d(weight: weight, bias: bias, stride: (stride, stride), padding: padding)
            case let .prelu(slopes): y = x.prelu(slopes: slopes)
            case let .add(other): y = x + values[other]!
            case .maxPool: y = x.maxPool2d(kernel: (2, 2))
            case let .channelPad(extra):
                y = extra == 0 ? x : Tensor.concat([x, Tensor(shape: [1, extra, x.shape[2], x.shape[3]])], axis: 1)
            }
            values[step.name] = y
            for (name, last) in lastUse where last == index && name != config.landmarksOutput && name != config.presenceOutput {
                values[name] = nil
            }
        }
        // The heads end 1x1: NCHW and NHWC flatten alike.
        return (values[config.landmarksOutput]!.scalars, values[config.presenceOutput]!.scalars[0])
    }
}
