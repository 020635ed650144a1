import Foundation
import Formats
import TensorCore

/// An ArcFace recognition network (insightface's IResNet, converted by
/// training/convert_arcface.py from the user's `.onnx` or `.pth` into a folder of
/// `config.json` + `arcface.safetensors`): an aligned face crop -> its identity embedding.
public final class ArcFace: @unchecked Sendable {
    public let config: ArcFaceConfig
    public let network: IResNet

    public convenience init(folder: URL) throws {
        let (config, weights) = try ConvertedFolder.load(folder, howToMake: "convert the ArcFace weights with training/convert_arcface.py FILE.onnx|FILE.pth FOLDER",
                                                         config: ArcFaceConfig.load, weightsFile: \.weightsFile)
        try self.init(config: config, weights: weights)
    }

    public init(config: ArcFaceConfig, weights: WeightSource) throws {
        let loader = WeightLoader(source: weights)
        network = try IResNet(loader.root, config: config)
        // num_batches_tracked: a training counter PyTorch saves beside the statistics.
        let unused = loader.unused(under: "").filter { !$0.hasSuffix("num_batches_tracked") }
        if !loader.problems.isEmpty || !unused.isEmpty {
            throw WeightLoadError(origin: weights.origin, problems: loader.problems + unused.map { .unexpected($0) })
        }
        self.config = config
    }

    /// The network's input for an aligned crop: [1, 3, size, size], (byte - mean) / std.
    public func input(_ aligned: RGBImage) -> Tensor {
        let size = config.inputSize
        precondition(aligned.width == size && aligned.height == size, "ArcFace takes a \(size)x\(size) aligned crop, got \(aligned.width)x\(aligned.height)")
        let opaque = aligned.flattened()
        let plane = size * size
        let tensor = Tensor(shape: [1, 3, size, size])
        for index in 0..<plane {
            for channel in 0..<3 {
                tensor.data[channel * plane + index] = (Float(opaque.pixels[3 * index + channel]) - config.inputMean) / config.inputStd
            }
        }
        return tensor
    }

    /// The raw embedding of an aligned crop (insightface's `embedding`).
    public func embedding(ofAligned aligned: RGBImage) -> [Float] {
        network(input(aligned)).scalars
    }
}
