import Foundation
import Formats

/// `face-detector/config.json` as written by training/convert_blazeface.py: the BlazeFace
/// layout found in MediaPipe's .tflite, and the options of MediaPipe's
/// face_detection_short_range graph (SsdAnchorsCalculator, TensorsToDetectionsCalculator,
/// NonMaxSuppressionCalculator), under MediaPipe's own option names.
public struct FaceDetectorConfig: Decodable, Equatable, Sendable {
    public struct Stem: Decodable, Equatable, Sendable {
        public var inChannels: Int
        public var outChannels: Int
        public var kernel: Int
        public var stride: Int
        /// TF SAME padding made explicit: [before, after] on both axes.
        public var padding: [Int]
    }

    public struct Block: Decodable, Equatable, Sendable {
        public var inChannels: Int
        public var outChannels: Int
        public var stride: Int
        public var kernel: Int
        public var padding: [Int]
    }

    /// One SSD head pair (classifier + regressor) reading a block's output.
    public struct Head: Decodable, Equatable, Sendable {
        public var stride: Int
        public var block: Int
        public var grid: Int
        public var anchorsPerCell: Int
        public var inChannels: Int
        public var coords: Int
        public var classifier: String
        public var regressor: String
    }

    public struct Anchors: Decodable, Equatable, Sendable {
        public var numLayers: Int
        public var minScale: Float
        public var maxScale: Float
        public var inputSizeHeight: Int
        public var inputSizeWidth: Int
        public var anchorOffsetX: Float
        public var anchorOffsetY: Float
        public var strides: [Int]
        public var aspectRatios: [Float]
        public var fixedAnchorSize: Bool
        public var interpolatedScaleAspectRatio: Float
        public var reduceBoxesInLowestLayer: Bool
    }

    public struct Decoding: Decodable, Equatable, Sendable {
        public var numClasses: Int
        public var numBoxes: Int
        public var numCoords: Int
        public var boxCoordOffset: Int
        public var keypointCoordOffset: Int
        public var numKeypoints: Int
        public var numValuesPerKeypoint: Int
        public var sigmoidScore: Bool
        public var scoreClippingThresh: Float
        public var reverseOutputOrder: Bool
        public var xScale: Float
        public var yScale: Float
        public var wScale: Float
        public var hScale: Float
        public var minScoreThresh: Float
    }

    public struct Suppression: Decodable, Equatable, Sendable {
        public var minSuppressionThreshold: Float
        /// INTERSECTION_OVER_UNION (JACCARD is the same measure).
        public var overlapType: String
        /// WEIGHTED (MediaPipe's blending) or DEFAULT (plain greedy suppression).
        public var algorithm: String
    }

    public var architecture: String
    public var weightsFile: String
    public var inputSize: Int
    public var stem: Stem
    public var blocks: [Block]
    public var heads: [Head]
    public var anchors: Anchors
    public var decoding: Decoding
    public var nms: Suppression
    public var keypoints: [String]

    /// Loads and checks `config.json`; every inconsistency is a one-line error naming the file.
    public static func load(_ url: URL) throws -> FaceDetectorConfig {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let config = try JSONConfig.load(FaceDetectorConfig.self, from: url, decoder: decoder)
        if let problem = config.problem {
            throw ModelError.invalidInput("\(url.path): \(problem)")
        }
        return config
    }

    /// What is inconsistent, or nil.
    var problem: String? {
        if architecture != "BlazeFace" { return "architecture '\(architecture)' is not BlazeFace" }
        if stem.padding.count != 2 || blocks.contains(where: { $0.padding.count != 2 }) {
            return "padding must be [before, after]"
        }
        var channels = stem.outChannels
        for (index, block) in blocks.enumerated() {
            if block.inChannels != channels { return "block \(index) takes \(block.inChannels) channels, the previous layer gives \(channels)" }
            if block.outChannels < block.inChannels { return "block \(index) narrows \(block.inChannels) -> \(block.outChannels) channels" }
            if block.stride != 1 && block.stride != 2 { return "block \(index) has stride \(block.stride); only 1 and 2 are supported" }
            channels = block.outChannels
        }
        for head in heads where !blocks.indices.contains(head.block) || blocks[head.block].outChannels != head.inChannels {
            return "head \(head.classifier) reads block \(head.block), which does not give \(head.inChannels) channels"
        }
        let boxes = heads.reduce(0) { $0 + $1.grid * $1.grid * $1.anchorsPerCell }
        if boxes != decoding.numBoxes { return "the heads give \(boxes) boxes, decoding.num_boxes is \(decoding.numBoxes)" }
        if heads.contains(where: { $0.coords != decoding.numCoords }) { return "a head's coords differ from decoding.num_coords \(decoding.numCoords)" }
        if decoding.numClasses != 1 { return "decoding.num_classes \(decoding.numClasses): only one class (faces) is supported" }
        if decoding.keypointCoordOffset + decoding.numKeypoints * decoding.numValuesPerKeypoint > decoding.numCoords {
            return "keypoints run past decoding.num_coords \(decoding.numCoords)"
        }
        if !["INTERSECTION_OVER_UNION", "JACCARD"].contains(nms.overlapType) { return "nms.overlap_type '\(nms.overlapType)' is not supported" }
        if !["WEIGHTED", "DEFAULT"].contains(nms.algorithm) { return "nms.algorithm '\(nms.algorithm)' is not supported" }
        return nil
    }
}
