import Formats
import TensorCore

/// dlib's face recognition ResNet (dnn_face_recognition_ex.cpp's `anet_type`) built from its
/// config: 150x150 RGB face chips in, 128-d descriptors out (not normalised: dlib compares
/// them by Euclidean distance, 0.6 = same person).
public struct DlibFaceResNet {
    public let config: DlibResNetConfig

    enum Operation {
        case conv(weight: Tensor, bias: Tensor, stride: Int, padding: Int)
        case affine(gamma: Tensor, beta: Tensor)
        case relu
        case maxPool(size: Int, stride: Int)
        case residualStart
        case residualAdd(shortcutPool: DlibResNetConfig.Pool?)
        case globalAveragePool
        case linear(weight: Tensor)
    }

    let operations: [Operation]

    public init(_ root: WeightPath, config: DlibResNetConfig) throws {
        self.config = config
        var channels = 3, features = 0
        var operations: [Operation] = []
        for layer in config.layers {
            switch layer.op {
            case "conv":
                let path = root(layer.key ?? "")
                let filters = layer.filters ?? 0, kernel = layer.kernel ?? 1
                operations.append(.conv(weight: try path.tensor("weight", [filters, channels, kernel, kernel]),
                                        bias: try path.tensor("bias", [filters], randomFill: 0),
                                        stride: layer.stride ?? 1, padding: layer.padding ?? 0))
                channels = filters
            case "affine":
                let path = root(layer.key ?? "")
                operations.append(.affine(gamma: try path.tensor("gamma", [channels]), beta: try path.tensor("beta", [channels])))
            case "relu": operations.append(.relu)
            case "max_pool": operations.append(.maxPool(size: layer.size ?? 1, stride: layer.stride ?? 1))
            case "residual_start": operations.append(.residualStart)
            case "residual_add": operations.append(.residualAdd(shortcutPool: layer.shortcutPool))
            case "global_avg_pool":
                operations.append(.globalAveragePool)
                features = channels
            default:  // "linear" (the config is validated)
                let path = root(layer.key ?? "")
                operations.append(.linear(weight: try path.tensor("weight", [config.outputDim, features])))
            }
        }
        self.operations = operations
    }

    /// Chips (each `input.size` square) -> [N, outputDim] descriptors.
    public func callAsFunction(chips: [RGBImage]) -> Tensor {
        self(input(chips))
    }

    /// dlib's input layer: (RGB 0...255 − mean) / scale, NCHW.
    public func input(_ chips: [RGBImage]) -> Tensor {
        let size = config.input.size
        let plane = size * size
        let out = Tensor(uninitializedShape: [chips.count, 3, size, size])
        for (n, chip) in chips.enumerated() {
            precondition(chip.width == size && chip.height == size, "face chip must be \(size)x\(size), got \(chip.width)x\(chip.height)")
            let base = out.data + n * 3 * plane
            for c in 0..<3 {
                let mean = config.input.mean[c], scale = config.input.scale
                for i in 0..<plane { base[c * plane + i] = (Float(chip.pixels[i * 3 + c]) - mean) / scale }
            }
        }
        return out
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = input
        var shortcut = input
        for operation in operations {
            switch operation {
            case let .conv(weight, bias, stride, padding):
                x = x.conv2d(weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding))
            case let .affine(gamma, beta):
                x = Self.affine(x, gamma: gamma, beta: beta)
            case .relu:
                x = x.relu()
            case let .maxPool(size, stride):
                x = x.maxPool2d(kernel: (size, size), stride: (stride, stride))
            case .residualStart:
                shortcut = x
            case let .residualAdd(pool):
                let skip = pool.map { Self.averagePool(shortcut, size: $0.size, stride: $0.stride) } ?? shortcut
                x = Self.addPrevious(x, skip)
            case .globalAveragePool:
                x = x.reshaped([x.shape[0], x.shape[1], x.shape[2] * x.shape[3]]).mean(axis: 2)
            case let .linear(weight):
                x = x.linear(weight: weight, bias: nil)
            }
        }
        return x
    }

    /// Per-channel scale and shift (dlib's `affine` in conv mode: batch norm folded).
    static func affine(_ x: Tensor, gamma: Tensor, beta: Tensor) -> Tensor {
        let out = Tensor(uninitializedShape: x.shape)
        let channels = x.shape[1], plane = x.shape[2] * x.shape[3]
        for n in 0..<x.shape[0] {
            for c in 0..<channels {
                let g = gamma.data[c], b = beta.data[c]
                let src = x.data + (n * channels + c) * plane, dst = out.data + (n * channels + c) * plane
                for i in 0..<plane { dst[i] = src[i] * g + b }
            }
        }
        return out
    }

    /// Unpadded average pooling (dlib's avg_pool with padding 0).
    static func averagePool(_ x: Tensor, size: Int, stride: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h - size) / stride + 1, ow = (w - size) / stride + 1
        let out = Tensor(uninitializedShape: [n, c, oh, ow])
        let area = Float(size * size)
        for p in 0..<(n * c) {
            let src = x.data + p * h * w, dst = out.data + p * oh * ow
            for y in 0..<oh {
                for xo in 0..<ow {
                    var sum: Float = 0
                    for dy in 0..<size {
                        for dx in 0..<size { sum += src[(y * stride + dy) * w + xo * stride + dx] }
                    }
                    dst[y * ow + xo] = sum / area
                }
            }
        }
        return out
    }

    /// dlib's add_prev: the output takes the larger size on every axis and each input is
    /// added in at the top-left corner (the shortcut of a downsampling block has fewer channels
    /// and, on odd sizes, a different spatial size).
    static func addPrevious(_ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = zip(a.shape, b.shape).map { max($0, $1) }
        let out = Tensor(shape: shape)
        for t in [a, b] {
            for n in 0..<t.shape[0] {
                for c in 0..<t.shape[1] {
                    for y in 0..<t.shape[2] {
                        let src = t.data + ((n * t.shape[1] + c) * t.shape[2] + y) * t.shape[3]
                        let dst = out.data + ((n * shape[1] + c) * shape[2] + y) * shape[3]
                        for x in 0..<t.shape[3] { dst[x] += src[x] }
                    }
                }
            }
        }
        return out
    }
}
