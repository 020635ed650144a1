import Foundation
import Formats

/// `face-mesh/config.json` as written by training/convert_face_mesh.py: MediaPipe's
/// face_landmark.tflite as a list of layers in execution order (each naming the values it
/// reads), the face_landmark_front graph's options around it, and the landmark index lists
/// the project uses (face oval, eye contours, the ArcFace alignment points).
public struct FaceMeshConfig: Decodable, Equatable, Sendable {
    public struct Layer: Decodable, Equatable, Sendable {
        /// conv, depthwise, prelu, add, max_pool (2x2, stride 2) or channel_pad.
        public var op: String
        /// The value it writes; weights live under this name.
        public var name: String
        public var inputs: [String]
        public var inChannels: Int?
        public var outChannels: Int?
        public var kernel: Int?
        public var stride: Int?
        /// top, bottom, left, right.
        public var padding: [Int]?
        public var channels: Int?
        public var extraChannels: Int?
    }

    /// MediaPipe's region of interest from a detection (face_detection_front_detection_to_roi).
    public struct RegionOptions: Decodable, Equatable, Sendable {
        /// Detection keypoints whose line is rotated to `targetAngleDegrees` (the two eyes).
        public var rotationKeypoints: [Int]
        public var targetAngleDegrees: Float
        /// Side of the square = the box's long side (pixels) x scale.
        public var scale: Float
        public var squareLong: Bool
    }

    public var architecture: String
    public var weightsFile: String
    public var inputSize: Int
    public var inputRange: [Float]
    public var input: String
    public var layers: [Layer]
    public var landmarksOutput: String
    public var presenceOutput: String
    public var numLandmarks: Int
    public var roi: RegionOptions
    public var presenceThreshold: Float
    /// The face outline, as an ordered polygon of landmark indices (FACEMESH_FACE_OVAL).
    public var faceOval: [Int]
    /// The subject's right eye contour (on the image's left), then the left one.
    public var rightEye: [Int]
    public var leftEye: [Int]
    public var noseTip: Int
    /// The subject's right mouth corner (image left), then the left one.
    public var mouthCorners: [Int]

    public static func load(_ url: URL) throws -> FaceMeshConfig {
        try JSONConfig.load(FaceMeshConfig.self, from: url, decoder: JSONConfig.snakeCaseDecoder())
    }
}

extension FaceMeshConfig: ValidatedConfig {
    /// Every layer reads values written before it, with the channels and sides it expects, and
    /// the outputs hold 3 x num_landmarks and 1 values, so running cannot fail on a shape.
    public func validate(file: String) throws {
        let r = ConfigRules(file: file)
        try r.require(architecture == "FaceMesh", "architecture", architecture, "only FaceMesh is supported")
        try r.require(!weightsFile.isEmpty && !weightsFile.contains("/") && weightsFile != "." && weightsFile != "..",
                      "weights_file", weightsFile, "must be a file name in the face mesh's folder")
        try r.range("input_size", inputSize, 8...1024)
        try r.require(inputRange.count == 2 && inputRange.allSatisfy(\.isFinite) && inputRange[0] < inputRange[1],
                      "input_range", inputRange, "must be [min, max] with min < max")
        try r.require((1...1024).contains(layers.count), "layers", "[\(layers.count) layers]", "needs 1...1024 layers")
        var shapes: [String: (channels: Int, side: Int)] = [input: (3, inputSize)]
        for (index, layer) in layers.enumerated() {
            let key = "layers[\(index)]"
            try r.require(!layer.name.isEmpty && shapes[layer.name] == nil, "\(key).name", layer.name, "must be a new, non-empty value name")
            let arity = layer.op == "add" ? 2 : 1
            try r.require(layer.inputs.count == arity, "\(key).inputs", layer.inputs, "\(layer.op) reads \(arity) value(s)")
            guard let x = shapes[layer.inputs[0]] else {
                throw r.failure("\(key) (\(layer.name.terminalSafe)) reads \(layer.inputs[0].terminalSafe), which no earlier layer writes")
            }
            switch layer.op {
            case "conv", "depthwise":
                guard let cin = layer.inChannels, let cout = layer.outChannels, let k = layer.kernel, let s = layer.stride,
                      let p = layer.padding, p.count == 4 else {
                    throw r.failure("\(key) (\(layer.name.terminalSafe)): a convolution needs in_channels, out_channels, kernel, stride and 4 paddings")
                }
                try r.require(cin == x.channels, "\(key).in_channels", cin, "its input has \(x.channels) channels")
                try r.range("\(key).out_channels", cout, 1...4096)
                try r.range("\(key).kernel", k, 1...15)
                try r.range("\(key).stride", s, 1...8)
                for value in p { try r.range("\(key).padding", value, 0...(k - 1)) }
                if layer.op == "depthwise" { try r.require(cout == cin, "\(key).out_channels", cout, "a depthwise convolution keeps its \(cin) channels") }
                let padded = x.side + p[0] + p[1]
                try r.require(p[0] + p[1] == p[2] + p[3] && padded >= k, "\(key).padding", p, "must give a square map the \(k)x\(k) kernel fits")
                shapes[layer.name] = (cout, (padded - k) / s + 1)
            case "prelu":
                try r.require(layer.channels == x.channels, "\(key).channels", layer.channels ?? 0, "its input has \(x.channels) channels")
                shapes[layer.name] = x
            case "add":
                guard let y = shapes[layer.inputs[1]] else {
                    throw r.failure("\(key) (\(layer.name.terminalSafe)) reads \(layer.inputs[1].terminalSafe), which no earlier layer writes")
                }
                try r.require(x == y, "\(key).inputs", layer.inputs, "adds a \(x.channels)x\(x.side)² and a \(y.channels)x\(y.side)² value")
                shapes[layer.name] = x
            case "max_pool":
                try r.require(x.side >= 2, "\(key)", layer.name, "a 2x2 pool needs a map of side 2 or more")
                shapes[layer.name] = (x.channels, x.side / 2)
            case "channel_pad":
                let extra = layer.extraChannels ?? -1
                try r.range("\(key).extra_channels", extra, 0...4096)
                shapes[layer.name] = (x.channels + extra, x.side)
            default:
                throw r.failure("\(key).op", layer.op, "must be conv, depthwise, prelu, add, max_pool or channel_pad")
            }
        }
        try r.range("num_landmarks", numLandmarks, 6...10000)
        for (key, name, count) in [("landmarks_output", landmarksOutput, 3 * numLandmarks), ("presence_output", presenceOutput, 1)] {
            guard let shape = shapes[name] else { throw r.failure(key, name, "no layer writes it") }
            try r.require(shape.channels * shape.side * shape.side == count, key, name,
                          "holds \(shape.channels * shape.side * shape.side) values, expected \(count)")
        }
        try r.require(roi.rotationKeypoints.count == 2 && roi.rotationKeypoints.allSatisfy { (0...31).contains($0) },
                      "roi.rotation_keypoints", roi.rotationKeypoints, "must name two detection keypoints")
        try r.positive("roi.scale", Double(roi.scale), below: 100)
        try r.require(roi.squareLong, "roi.square_long", roi.squareLong, "only square regions (square_long: true) are supported")
        try r.finite("roi.target_angle_degrees", Double(roi.targetAngleDegrees))
        try r.require(presenceThreshold.isFinite && (0...1).contains(presenceThreshold), "presence_threshold",
                      Double(presenceThreshold), "must lie in 0...1")
        let indices = 0..<numLandmarks
        try r.require(faceOval.count >= 3 && faceOval.allSatisfy(indices.contains), "face_oval", "[\(faceOval.count) indices]",
                      "needs 3 or more landmark indices below \(numLandmarks)")
        for (key, list) in [("right_eye", rightEye), ("left_eye", leftEye)] {
            try r.require(!list.isEmpty && list.allSatisfy(indices.contains), key, "[\(list.count) indices]",
                          "needs landmark indices below \(numLandmarks)")
        }
        try r.require(indices.contains(noseTip), "nose_tip", noseTip, "must be a landmark index below \(numLandmarks)")
        try r.require(mouthCorners.count == 2 && mouthCorners.allSatisfy(indices.contains), "mouth_corners", mouthCorners,
                      "needs two landmark indices below \(numLandmarks)")
    }
}
