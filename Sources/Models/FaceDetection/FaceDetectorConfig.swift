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

    /// Loads and checks `config.json`; every inconsistency is a one-line error naming the file
    /// (`JSONConfig.load` runs `validate(file:)`).
    public static func load(_ url: URL) throws -> FaceDetectorConfig {
        try JSONConfig.load(FaceDetectorConfig.self, from: url, decoder: JSONConfig.snakeCaseDecoder())
    }
}

extension FaceDetectorConfig: ValidatedConfig {
    /// Ranges first, then the layout: channels chain from block to block, each head reads a
    /// block whose feature map is its grid, and the anchors, heads and decoding agree on the
    /// box count, so building and running the network cannot fail on a shape.
    public func validate(file: String) throws {
        let r = ConfigRules(file: file)
        let maxChannels = 4096
        try r.require(architecture == "BlazeFace", "architecture", architecture, "only BlazeFace is supported")
        try r.require(!weightsFile.isEmpty && !weightsFile.contains("/") && weightsFile != "." && weightsFile != "..",
                      "weights_file", weightsFile, "must be a file name in the detector's folder")
        try r.range("input_size", inputSize, 1...1024)
        try r.require(stem.inChannels == 3, "stem.in_channels", stem.inChannels, "must be 3 (RGB input)")
        try r.range("stem.out_channels", stem.outChannels, 1...maxChannels)
        try r.range("stem.kernel", stem.kernel, 1...15)
        try r.range("stem.stride", stem.stride, 1...4)
        try checkPadding("stem.padding", stem.padding, kernel: stem.kernel, r)
        // The feature map side after each layer, as the network computes it.
        var side = try outputSide(inputSize, kernel: stem.kernel, stride: stem.stride, padding: stem.padding,
                                  key: "stem", r)
        var sides: [Int] = []
        var channels = stem.outChannels
        try r.require((1...64).contains(blocks.count), "blocks", "[\(blocks.count) blocks]", "needs 1...64 blocks")
        for (index, block) in blocks.enumerated() {
            let key = "blocks[\(index)]"
            try r.range("\(key).kernel", block.kernel, 1...15)
            try r.range("\(key).out_channels", block.outChannels, 1...maxChannels)
            try checkPadding("\(key).padding", block.padding, kernel: block.kernel, r)
            if block.inChannels != channels { throw r.failure("block \(index) takes \(block.inChannels) channels, the previous layer gives \(channels)") }
            if block.outChannels < block.inChannels { throw r.failure("block \(index) narrows \(block.inChannels) -> \(block.outChannels) channels") }
            if block.stride != 1 && block.stride != 2 { throw r.failure("block \(index) has stride \(block.stride); only 1 and 2 are supported") }
            let main = try outputSide(side, kernel: block.kernel, stride: block.stride, padding: block.padding, key: key, r)
            let skip = block.stride == 2 ? side / 2 : side
            if main != skip || skip < 1 {
                throw r.failure("block \(index): its convolution gives a \(main)x\(main) map but its skip path \(skip)x\(skip) (from \(side)x\(side))")
            }
            side = main
            sides.append(side)
            channels = block.outChannels
        }
        try r.require((1...16).contains(heads.count), "heads", "[\(heads.count) heads]", "needs 1...16 heads")
        for (index, head) in heads.enumerated() {
            let key = "heads[\(index)]"
            try r.require(!head.classifier.isEmpty && !head.regressor.isEmpty, "\(key).classifier", head.classifier,
                          "classifier and regressor must name weights")
            guard blocks.indices.contains(head.block), blocks[head.block].outChannels == head.inChannels else {
                throw r.failure("head \(head.classifier.terminalSafe) reads block \(head.block), which does not give \(head.inChannels) channels")
            }
            try r.require(head.grid == sides[head.block], "\(key).grid", head.grid,
                          "block \(head.block) gives a \(sides[head.block])x\(sides[head.block]) feature map")
            try r.range("\(key).anchors_per_cell", head.anchorsPerCell, 1...64)
            try r.range("\(key).coords", head.coords, 4...64)
        }
        let boxes = heads.reduce(0) { $0 + $1.grid * $1.grid * $1.anchorsPerCell }
        if boxes != decoding.numBoxes { throw r.failure("the heads give \(boxes) boxes, decoding.num_boxes is \(decoding.numBoxes)") }
        if heads.contains(where: { $0.coords != decoding.numCoords }) { throw r.failure("a head's coords differ from decoding.num_coords \(decoding.numCoords)") }
        if decoding.numClasses != 1 { throw r.failure("decoding.num_classes \(decoding.numClasses): only one class (faces) is supported") }
        try r.range("decoding.num_coords", decoding.numCoords, 4...64)
        try r.range("decoding.box_coord_offset", decoding.boxCoordOffset, 0...(decoding.numCoords - 4))
        try r.range("decoding.keypoint_coord_offset", decoding.keypointCoordOffset, 0...decoding.numCoords)
        try r.range("decoding.num_keypoints", decoding.numKeypoints, 0...32)
        try r.range("decoding.num_values_per_keypoint", decoding.numValuesPerKeypoint, 2...8)
        if decoding.keypointCoordOffset + decoding.numKeypoints * decoding.numValuesPerKeypoint > decoding.numCoords {
            throw r.failure("keypoints run past decoding.num_coords \(decoding.numCoords)")
        }
        for (key, value) in [("x_scale", decoding.xScale), ("y_scale", decoding.yScale), ("w_scale", decoding.wScale),
                             ("h_scale", decoding.hScale)] {
            try r.positive("decoding.\(key)", Double(value))
        }
        try r.require(decoding.scoreClippingThresh.isFinite && decoding.scoreClippingThresh >= 0,
                      "decoding.score_clipping_thresh", Double(decoding.scoreClippingThresh), "must be a finite number >= 0")
        try r.finite("decoding.min_score_thresh", Double(decoding.minScoreThresh))
        try validateAnchors(r)
        try r.require(nms.minSuppressionThreshold.isFinite && (0...1).contains(nms.minSuppressionThreshold),
                      "nms.min_suppression_threshold", Double(nms.minSuppressionThreshold), "must lie in 0...1")
        if !["INTERSECTION_OVER_UNION", "JACCARD"].contains(nms.overlapType) { throw r.failure("nms.overlap_type '\(nms.overlapType.terminalSafe)' is not supported") }
        if !["WEIGHTED", "DEFAULT"].contains(nms.algorithm) { throw r.failure("nms.algorithm '\(nms.algorithm.terminalSafe)' is not supported") }
    }

    private func checkPadding(_ key: String, _ padding: [Int], kernel: Int, _ r: ConfigRules) throws {
        try r.require(padding.count == 2, key, padding, "padding must be [before, after]")
        for value in padding { try r.require((0..<kernel).contains(value), key, padding, "each must lie in 0...kernel - 1 (\(kernel - 1))") }
    }

    private func outputSide(_ side: Int, kernel: Int, stride: Int, padding: [Int], key: String, _ r: ConfigRules) throws -> Int {
        let padded = side + padding[0] + padding[1]
        guard padded >= kernel else {
            throw r.failure("\(key): a \(kernel)x\(kernel) kernel does not fit the \(side)x\(side) map (padding \(padding))")
        }
        return (padded - kernel) / stride + 1
    }

    /// MediaPipe's anchor options, and the anchor count `SSDAnchors.generate` will make,
    /// computed without making them.
    private func validateAnchors(_ r: ConfigRules) throws {
        let a = anchors
        try r.range("anchors.num_layers", a.numLayers, 1...16)
        try r.require(a.strides.count == a.numLayers, "anchors.strides", a.strides, "needs num_layers (\(a.numLayers)) entries")
        try r.range("anchors.input_size_height", a.inputSizeHeight, 1...1024)
        try r.range("anchors.input_size_width", a.inputSizeWidth, 1...1024)
        for (index, stride) in a.strides.enumerated() { try r.range("anchors.strides[\(index)]", stride, 1...1024) }
        try r.require((0...16).contains(a.aspectRatios.count), "anchors.aspect_ratios", "[\(a.aspectRatios.count) values]", "needs 0...16 values")
        for (index, ratio) in a.aspectRatios.enumerated() { try r.positive("anchors.aspect_ratios[\(index)]", Double(ratio)) }
        for (key, value) in [("min_scale", a.minScale), ("max_scale", a.maxScale), ("anchor_offset_x", a.anchorOffsetX),
                             ("anchor_offset_y", a.anchorOffsetY), ("interpolated_scale_aspect_ratio", a.interpolatedScaleAspectRatio)] {
            try r.finite("anchors.\(key)", Double(value))
        }
        var count = 0, layer = 0
        while layer < a.strides.count {
            var sizes = 0, last = layer
            while last < a.strides.count && a.strides[last] == a.strides[layer] {
                sizes += last == 0 && a.reduceBoxesInLowestLayer ? 3 : a.aspectRatios.count + (a.interpolatedScaleAspectRatio > 0 ? 1 : 0)
                last += 1
            }
            let stride = a.strides[layer]
            count += ((a.inputSizeHeight + stride - 1) / stride) * ((a.inputSizeWidth + stride - 1) / stride) * sizes
            layer = last
        }
        if count != decoding.numBoxes {
            throw r.failure("the anchor options give \(count) anchors, decoding.num_boxes is \(decoding.numBoxes)")
        }
    }
}
