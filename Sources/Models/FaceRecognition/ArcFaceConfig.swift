import Foundation
import Formats

/// `config.json` of an ArcFace folder, as training/convert_arcface.py writes it: insightface's
/// IResNet (recognition/arcface_torch/backbones/iresnet.py) by its blocks per stage
/// (r50 [3, 4, 14, 3], r100 [3, 13, 30, 3]) and stage widths (64, 128, 256, 512), the
/// embedding size and the input it expects (a 112x112 aligned RGB crop, (x - mean) / std).
public struct ArcFaceConfig: Decodable, Equatable, Sendable {
    public var architecture: String
    public var weightsFile: String
    public var layers: [Int]
    public var widths: [Int]
    public var embeddingSize: Int
    public var inputSize: Int
    public var inputMean: Float
    public var inputStd: Float
    public var bnEps: Float

    public init(layers: [Int], widths: [Int] = [64, 128, 256, 512], embeddingSize: Int = 512, inputSize: Int = 112,
                weightsFile: String = "arcface.safetensors") {
        architecture = "IResNet"
        self.weightsFile = weightsFile
        self.layers = layers
        self.widths = widths
        self.embeddingSize = embeddingSize
        self.inputSize = inputSize
        inputMean = 127.5
        inputStd = 127.5
        bnEps = 1e-5
    }

    public static let r50 = ArcFaceConfig(layers: [3, 4, 14, 3])
    public static let r100 = ArcFaceConfig(layers: [3, 13, 30, 3])

    /// The feature map's side after the four stride-2 stages.
    public var finalSide: Int { inputSize / 16 }

    public static func load(_ url: URL) throws -> ArcFaceConfig {
        try JSONConfig.load(ArcFaceConfig.self, from: url, decoder: JSONConfig.snakeCaseDecoder())
    }
}

extension ArcFaceConfig: ValidatedConfig {
    public func validate(file: String) throws {
        let r = ConfigRules(file: file)
        try r.require(architecture == "IResNet", "architecture", architecture, "only insightface's IResNet is supported")
        try r.require(!weightsFile.isEmpty && !weightsFile.contains("/") && weightsFile != "." && weightsFile != "..",
                      "weights_file", weightsFile, "must be a file name in the ArcFace folder")
        try r.list("layers", layers, counts: 4...4, 1...256, "blocks per stage")
        try r.list("widths", widths, counts: 4...4, 1...4096, "channels per stage")
        try r.range("embedding_size", embeddingSize, 1...65536)
        try r.range("input_size", inputSize, 16...1024)
        try r.require(inputSize % 16 == 0, "input_size", inputSize, "must be a multiple of 16 (four stride-2 stages)")
        try r.finite("input_mean", Double(inputMean))
        try r.positive("input_std", Double(inputStd))
        try r.positive("bn_eps", Double(bnEps), below: 1)
    }
}
