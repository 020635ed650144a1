import Foundation
import Formats
import TensorCore

/// A face rectangle as dlib holds one: integer pixel corners, right and bottom inclusive.
public struct DlibRectangle: Equatable, Sendable {
    public var left: Int
    public var top: Int
    public var right: Int
    public var bottom: Int

    public init(left: Int, top: Int, right: Int, bottom: Int) {
        (self.left, self.top, self.right, self.bottom) = (left, top, right, bottom)
    }
}

/// dlib's shape predictor (Kazemi & Sullivan's cascade of regression-tree forests on
/// pixel-intensity differences), run on the tensors training/convert_dlib_face.py writes
/// (`landmarks.safetensors`). dlib's 5-point model finds the eye corners and the bottom of
/// the nose inside a face rectangle: what its face chips are aligned with.
public struct DlibShapePredictor: Sendable {
    public let points: Int
    let cascades: Int
    let trees: Int
    let splits: Int
    let featurePixels: Int
    let initialShape: [Float]
    let splitPixels: [Int]
    let thresholds: [Float]
    let leafValues: [Float]
    let anchors: [Int]
    let deltas: [Float]

    /// Reads and checks `landmarks.safetensors` (shapes agree, every index in range).
    public init(url: URL) throws {
        let source = try SafetensorsWeightSource(url: url)
        func fail(_ message: String) -> FormatError {
            FormatError(file: url.path, problem: .invalidInput, message: message)
        }
        func load(_ name: String, rank: Int) throws -> (shape: [Int], values: [Float]) {
            guard let shape = source.shape(of: name) else { throw fail("no tensor '\(name)'") }
            guard shape.count == rank, shape.allSatisfy({ $0 > 0 }) else { throw fail("'\(name)' has shape \(shape), expected \(rank) non-empty dimensions") }
            return (shape, try source.tensor(named: name).scalars)
        }
        let initial = try load("initial_shape", rank: 1)
        let pixels = try load("split_pixels", rank: 4)
        let thresholds = try load("split_thresholds", rank: 3)
        let leaves = try load("leaf_values", rank: 4)
        let anchors = try load("anchors", rank: 2)
        let deltas = try load("deltas", rank: 3)
        let (c, t, s) = (pixels.shape[0], pixels.shape[1], pixels.shape[2])
        let p2 = initial.shape[0], f = anchors.shape[1]
        guard p2 % 2 == 0, pixels.shape[3] == 2, thresholds.shape == [c, t, s], leaves.shape == [c, t, s + 1, p2],
              anchors.shape[0] == c, deltas.shape == [c, f, 2] else {
            throw fail("inconsistent shapes: initial_shape \(initial.shape), split_pixels \(pixels.shape), split_thresholds \(thresholds.shape), leaf_values \(leaves.shape), anchors \(anchors.shape), deltas \(deltas.shape)")
        }
        guard (s + 1) & s == 0 else { throw fail("trees with \(s) splits are not complete binary trees") }
        guard c * t * s <= 1 << 24, f <= 1 << 16 else { throw fail("\(c) x \(t) trees of \(s) splits, \(f) pixels: too large") }
        let splitPixels = pixels.values.map { Int($0) }
        let anchorIndices = anchors.values.map { Int($0) }
        guard splitPixels.allSatisfy({ (0..<f).contains($0) }) else { throw fail("'split_pixels' has an index outside 0..<\(f)") }
        guard anchorIndices.allSatisfy({ (0..<(p2 / 2)).contains($0) }) else { throw fail("'anchors' has a landmark index outside 0..<\(p2 / 2)") }
        guard (initial.values + thresholds.values + leaves.values + deltas.values).allSatisfy(\.isFinite) else {
            throw fail("non-finite values")
        }
        points = p2 / 2
        (cascades, trees, splits, featurePixels) = (c, t, s, f)
        initialShape = initial.values
        self.splitPixels = splitPixels
        self.thresholds = thresholds.values
        leafValues = leaves.values
        self.anchors = anchorIndices
        self.deltas = deltas.values
    }

    /// The landmarks in `image` for the face in `rect`, in pixels (rounded as dlib rounds).
    public func callAsFunction(_ image: RGBImage, rect: DlibRectangle) -> [SIMD2<Int>] {
        // dlib's get_pixel_intensity of an RGB pixel: the integer mean of the three channels
        var gray = [Float](repeating: 0, count: image.width * image.height)
        for i in 0..<gray.count {
            gray[i] = Float((Int(image.pixels[i * 3]) + Int(image.pixels[i * 3 + 1]) + Int(image.pixels[i * 3 + 2])) / 3)
        }
        let initial = (0..<points).map { SIMD2<Double>(Double(initialShape[2 * $0]), Double(initialShape[2 * $0 + 1])) }
        var current = initialShape
        var features = [Float](repeating: 0, count: featurePixels)
        let scaleX = Double(rect.right - rect.left), scaleY = Double(rect.bottom - rect.top)
        let leafSize = 2 * points
        for cascade in 0..<cascades {
            let shape = (0..<points).map { SIMD2<Double>(Double(current[2 * $0]), Double(current[2 * $0 + 1])) }
            let m = SimilarityTransform.fit(from: initial, to: shape)
            let (m00, m01, m10, m11) = (Float(m.a), Float(-m.b), Float(m.b), Float(m.a))
            for i in 0..<featurePixels {
                let anchor = anchors[cascade * featurePixels + i]
                let dx = deltas[(cascade * featurePixels + i) * 2], dy = deltas[(cascade * featurePixels + i) * 2 + 1]
                let px = m00 * dx + m01 * dy + current[2 * anchor]
                let py = m10 * dx + m11 * dy + current[2 * anchor + 1]
                let x = Self.round(Double(rect.left) + Double(px) * scaleX)
                let y = Self.round(Double(rect.top) + Double(py) * scaleY)
                features[i] = x >= 0 && y >= 0 && x < image.width && y < image.height ? gray[y * image.width + x] : 0
            }
            for tree in 0..<trees {
                let base = cascade * trees + tree
                var node = 0
                while node < splits {
                    let a = splitPixels[(base * splits + node) * 2], b = splitPixels[(base * splits + node) * 2 + 1]
                    node = features[a] - features[b] > thresholds[base * splits + node] ? 2 * node + 1 : 2 * node + 2
                }
                let leaf = (base * (splits + 1) + node - splits) * leafSize
                for k in 0..<leafSize { current[k] += leafValues[leaf + k] }
            }
        }
        return (0..<points).map {
            SIMD2(Self.round(Double(rect.left) + Double(current[2 * $0]) * scaleX),
                  Self.round(Double(rect.top) + Double(current[2 * $0 + 1]) * scaleY))
        }
    }

    /// dlib's float-to-integer point conversion: round half up.
    static func round(_ value: Double) -> Int {
        guard value.isFinite, abs(value) < 1e9 else { return Int.min / 2 }
        return Int((value + 0.5).rounded(.down))
    }
}

/// The least-squares similarity (rotation, uniform scale, translation) between two point
/// sets: Umeyama's method, which in 2-D has this closed form. x' = a·x − b·y + tx,
/// y' = b·x + a·y + ty.
struct SimilarityTransform {
    var a: Double
    var b: Double
    var tx: Double
    var ty: Double

    static func fit(from source: [SIMD2<Double>], to target: [SIMD2<Double>]) -> SimilarityTransform {
        let n = Double(source.count)
        let ms = source.reduce(SIMD2<Double>(0, 0), +) / n, mt = target.reduce(SIMD2<Double>(0, 0), +) / n
        var norm = 0.0, dot = 0.0, cross = 0.0
        for (s, t) in zip(source, target) {
            let u = s - ms, v = t - mt
            norm += u.x * u.x + u.y * u.y
            dot += u.x * v.x + u.y * v.y
            cross += u.x * v.y - u.y * v.x
        }
        let a = norm > 0 ? dot / norm : 1, b = norm > 0 ? cross / norm : 0
        return SimilarityTransform(a: a, b: b, tx: mt.x - (a * ms.x - b * ms.y), ty: mt.y - (b * ms.x + a * ms.y))
    }

    func apply(_ p: SIMD2<Double>) -> SIMD2<Double> {
        SIMD2(a * p.x - b * p.y + tx, b * p.x + a * p.y + ty)
    }
}
