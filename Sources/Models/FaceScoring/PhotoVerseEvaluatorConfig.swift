import Foundation
import Formats

/// `evaluator/config.json` of a PhotoVerse-mini folder (FORMAT.md section 12).
public struct PhotoVerseEvaluatorConfig: Decodable, Equatable, Sendable {
    public struct Arguments: Decodable, Equatable, Sendable {
        public var widths: [Int]
        public var dim: Int
        public var cropSize: Int?
    }

    public struct Crop: Decodable, Equatable, Sendable {
        public var size: Int
        public var enlarge: Double
    }

    /// Where the generator puts faces (the median face box of the held-out images, x, y, w, h
    /// in pixels of an `imageSize` square image): the evaluation crops generations there.
    public struct FaceBox: Decodable, Equatable, Sendable {
        public var imageSize: Int
        public var box: [Double]
    }

    public var format: String
    public var formatVersion: Int
    public var kwargs: Arguments
    public var crop: Crop
    public var outputDim: Int
    public var faceBox: FaceBox?

    public static let formatName = "photoverse-evaluator"

    public static func load(_ url: URL) throws -> PhotoVerseEvaluatorConfig {
        try JSONConfig.load(PhotoVerseEvaluatorConfig.self, from: url, decoder: JSONConfig.snakeCaseDecoder())
    }
}

extension PhotoVerseEvaluatorConfig: ValidatedConfig {
    public func validate(file: String) throws {
        let r = ConfigRules(file: file)
        try r.format(format, version: formatVersion, expected: Self.formatName)
        try r.require((1...6).contains(kwargs.widths.count), "kwargs.widths", kwargs.widths.count, "needs 1 to 6 widths")
        for (i, w) in kwargs.widths.enumerated() {
            try r.require((4...1024).contains(w) && w % min(8, w / 4) == 0, "kwargs.widths[\(i)]", w,
                          "must be 4 to 1024 and divisible by its GroupNorm groups (min(8, width / 4))")
        }
        try r.range("kwargs.dim", kwargs.dim, 1...4096)
        try r.require(outputDim == kwargs.dim, "output_dim", outputDim, "must equal kwargs.dim (\(kwargs.dim))")
        let side = crop.size >> (kwargs.widths.count + 1)
        try r.require((8...1024).contains(crop.size) && side >= 1 && side << (kwargs.widths.count + 1) == crop.size,
                      "crop.size", crop.size, "must be 8 to 1024 and divisible by 2^(widths + 1)")
        try r.require(kwargs.cropSize == nil || kwargs.cropSize == crop.size, "kwargs.crop_size", kwargs.cropSize ?? 0,
                      "must equal crop.size (\(crop.size))")
        try r.require(crop.enlarge > 0 && crop.enlarge <= 4, "crop.enlarge", crop.enlarge, "must be above 0, at most 4")
        if let faceBox {
            try r.range("face_box.image_size", faceBox.imageSize, 8...ConfigRules.maxImageSize)
            try r.require(faceBox.box.count == 4 && faceBox.box[2] > 0 && faceBox.box[3] > 0 && faceBox.box.allSatisfy(\.isFinite),
                          "face_box.box", faceBox.box, "needs x, y, w, h with a positive size")
        }
    }
}
