import Foundation
import Formats

/// `resnet.json` of a `dlib-face/` folder (training/convert_dlib_face.py): dlib's face
/// recognition ResNet as a list of operations in order, each with the key of its weights.
public struct DlibResNetConfig: Decodable, Equatable, Sendable {
    public struct Input: Decodable, Equatable, Sendable {
        public var size: Int
        /// Per-channel means subtracted from RGB 0...255 (dlib's input_rgb_image_sized).
        public var mean: [Float]
        public var scale: Float
    }

    public struct Pool: Decodable, Equatable, Sendable {
        public var size: Int
        public var stride: Int
    }

    /// One operation. `residual_start` marks a block's input; `residual_add` adds it back
    /// (average-pooled by `shortcut_pool` where the block downsamples).
    public struct Layer: Decodable, Equatable, Sendable {
        public var op: String
        public var key: String?
        public var filters: Int?
        public var kernel: Int?
        public var stride: Int?
        public var padding: Int?
        public var size: Int?
        public var outputs: Int?
        public var shortcutPool: Pool?
    }

    public struct Chip: Decodable, Equatable, Sendable {
        public var size: Int
        public var padding: Double
    }

    public var format: String
    public var formatVersion: Int
    public var input: Input
    public var layers: [Layer]
    public var outputDim: Int
    /// dlib's same-person threshold on the Euclidean distance of two descriptors (0.6).
    public var distanceThreshold: Float
    public var chip: Chip

    public static let formatName = "dlib-face-resnet"

    public static func load(_ url: URL) throws -> DlibResNetConfig {
        try JSONConfig.load(DlibResNetConfig.self, from: url, decoder: JSONConfig.snakeCaseDecoder())
    }
}

extension DlibResNetConfig: ValidatedConfig {
    /// The operations chain (channels, sizes, a residual_start before each residual_add, a
    /// global pool before the final linear layer), so building and running cannot fail on a shape.
    public func validate(file: String) throws {
        let r = ConfigRules(file: file)
        try r.format(format, version: formatVersion, expected: Self.formatName)
        try r.require((8...1024).contains(input.size), "input.size", input.size, "must be 8 to 1024")
        try r.require(input.mean.count == 3, "input.mean", input.mean.count, "needs 3 values (R, G, B)")
        try r.require(input.scale > 0 && input.scale.isFinite, "input.scale", input.scale, "must be positive")
        try r.require(chip.size == input.size, "chip.size", chip.size, "must equal input.size (\(input.size))")
        try r.require((0...2).contains(chip.padding), "chip.padding", chip.padding, "must be 0 to 2")
        try r.require(distanceThreshold > 0 && distanceThreshold.isFinite, "distance_threshold", distanceThreshold, "must be positive")
        var side = input.size, open = false, pooled = false
        for (i, layer) in layers.enumerated() {
            let name = "layers[\(i)]"
            try r.require(!pooled || layer.op == "linear", "\(name).op", layer.op, "only the linear layer may follow the global pool")
            switch layer.op {
            case "conv":
                let k = layer.kernel ?? 0, s = layer.stride ?? 0, p = layer.padding ?? -1, f = layer.filters ?? 0
                try r.require((1...4096).contains(f), "\(name).filters", f, "must be 1 to 4096")
                try r.require((1...15).contains(k) && (1...8).contains(s) && (0..<k).contains(p), "\(name)",
                              "kernel \(k) stride \(s) padding \(p)", "kernel 1 to 15, stride 1 to 8, padding below the kernel")
                try r.require(layer.key != nil, "\(name).key", "none", "a conv needs the key of its weights")
                side = (side + 2 * p - k) / s + 1
            case "affine":
                try r.require(layer.key != nil, "\(name).key", "none", "an affine layer needs the key of its weights")
            case "relu":
                break
            case "max_pool":
                let k = layer.size ?? 0, s = layer.stride ?? 0
                try r.require(k >= 1 && s >= 1, "\(name)", "size \(k) stride \(s)", "must be positive")
                side = (side - k) / s + 1
            case "residual_start":
                try r.require(!open, "\(name).op", layer.op, "a residual block is already open")
                open = true
            case "residual_add":
                try r.require(open, "\(name).op", layer.op, "no residual_start before it")
                if let pool = layer.shortcutPool {
                    try r.require(pool.size >= 1 && pool.stride >= 1, "\(name).shortcut_pool", "size \(pool.size) stride \(pool.stride)", "must be positive")
                }
                open = false
            case "global_avg_pool":
                pooled = true
            case "linear":
                try r.require(pooled && i == layers.count - 1, "\(name).op", layer.op, "must be the last layer, after global_avg_pool")
                try r.require(layer.outputs == outputDim, "\(name).outputs", layer.outputs ?? 0, "must equal output_dim (\(outputDim))")
                try r.require(layer.key != nil, "\(name).key", "none", "a linear layer needs the key of its weights")
            default:
                try r.require(false, "\(name).op", layer.op, "unknown operation")
            }
            try r.require(side >= 1, "\(name)", layer.op, "the feature map shrinks to nothing")
        }
        try r.require(layers.last?.op == "linear", "layers", layers.count, "must end with the linear layer")
    }
}
