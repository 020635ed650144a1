import Foundation
import Formats
import Models
import TensorCore
import TestSupport
import XCTest

/// ArcFace (insightface's IResNet) and its five-point alignment against insightface's own
/// recipe, on fixtures by training/fixtures/make_face_geometry_fixtures.py:
/// - a tiny random IResNet (layers 2/1/2/1, widths 8/16/16/16, 64-d) converted from a .pth by
///   training/convert_arcface.py, against PyTorch and against onnxruntime running the same
///   weights exported to ONNX;
/// - norm_crop on Grace Hopper's portrait: skimage's Umeyama estimate and cv2.warpAffine.
///
/// Tolerances: embeddings 1e-4 of their largest magnitude (Float32, BatchNorms folded into the
/// convolutions; observed ~1e-6). The similarity: 1e-6 relative. The warped crop: cv2 works in
/// fixed point (1/32 pixel, 15-bit weights), so a grey level here and there: at most 2, mean
/// under 0.2.
final class ArcFaceTests: XCTestCase {
    static let folder = Fixtures.url("face-geometry/arcface-tiny")

    func testTinyIResNetMatchesPyTorchAndOnnxRuntime() throws {
        let arcface = try ArcFace(folder: Self.folder)
        XCTAssertEqual(arcface.config.layers, [2, 1, 2, 1])
        XCTAssertEqual(arcface.config.widths, [8, 16, 16, 16])
        let golden = try SafetensorsFile(url: Fixtures.url("face-geometry/arcface_golden.safetensors"))
        let output = arcface.network(try golden.tensor("input"))
        XCTAssertEqual(output.shape, [1, 64])
        for reference in ["embedding", "embedding_onnxruntime"] {
            let expected = try golden.tensor(reference)
            let scale = max(1, expected.scalars.map(abs).max()!)
            XCTAssertLessThan(output.maxAbsDifference(expected) / scale, 1e-4, reference)
        }
    }

    func testAlignedCropInputIsNormalisedLikeInsightface() throws {
        let arcface = try ArcFace(folder: Self.folder)
        let aligned = try ImageFile.load(Fixtures.url("face-geometry/arcface_aligned_grace_hopper.png"))
        let golden = try SafetensorsFile(url: Fixtures.url("face-geometry/arcface_golden.safetensors"))
        XCTAssertLessThan(arcface.input(aligned).maxAbsDifference(try golden.tensor("input")), 1e-6)
    }

    struct AlignmentGolden: Decodable { let five: [[Double]]; let matrix: [[Double]]; let size: Int }

    func testSimilarityIsUmeyamasAndTheWarpIsNormCrops() throws {
        let golden = try JSONDecoder().decode(AlignmentGolden.self,
                                              from: Data(contentsOf: Fixtures.url("face-geometry/alignment_golden.json")))
        let points = golden.five.map { SIMD2($0[0], $0[1]) }
        let m = FaceAlignment.similarity(from: points, to: FaceAlignment.template(size: 112))
        let ours = [[m.a, m.b, m.tx], [m.c, m.d, m.ty]]
        for (row, expected) in zip(ours, golden.matrix) {
            for (a, b) in zip(row, expected) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b))) }
        }
        let photo = try ImageFile.load(Fixtures.url("faces/grace_hopper.jpg"))
        let aligned = FaceAlignment.align(photo, points: points.map { SIMD2(Float($0.x), Float($0.y)) }).image
        let expected = try ImageFile.load(Fixtures.url("face-geometry/arcface_aligned_grace_hopper.png"))
        XCTAssertEqual([aligned.width, aligned.height], [112, 112])
        let differences = zip(aligned.pixels, expected.pixels).map { abs(Int($0) - Int($1)) }
        XCTAssertLessThanOrEqual(differences.max()!, 2)
        XCTAssertLessThan(Double(differences.reduce(0, +)) / Double(differences.count), 0.2)
    }

    func testSimilarityRecoversAKnownTransform() {
        // Points turned 30°, scaled 2.5x and shifted: the estimate is that transform exactly.
        let angle = Double.pi / 6, scale = 2.5
        let source: [SIMD2<Double>] = [SIMD2(10, 20), SIMD2(40, 22), SIMD2(25, 40), SIMD2(14, 55), SIMD2(37, 54)]
        let target = source.map { p in
            SIMD2(scale * (cos(angle) * p.x - sin(angle) * p.y) + 7, scale * (sin(angle) * p.x + cos(angle) * p.y) - 3)
        }
        let m = FaceAlignment.similarity(from: source, to: target)
        XCTAssertEqual(m.a, scale * cos(angle), accuracy: 1e-9)
        XCTAssertEqual(m.c, scale * sin(angle), accuracy: 1e-9)
        XCTAssertEqual(m.tx, 7, accuracy: 1e-9)
        XCTAssertEqual(m.ty, -3, accuracy: 1e-9)
        XCTAssertEqual(FaceAlignment.template(size: 224)[0].x, 2 * 38.2946, accuracy: 1e-9)
    }

    func testDetectorKeypointsGiveMouthCornersAlongTheEyeLine() {
        let detection = FaceDetection(score: 1, box: BoundingBox(xmin: 0, ymin: 0, xmax: 100, ymax: 100),
                                      keypoints: [SIMD2(30, 40), SIMD2(70, 40), SIMD2(50, 60), SIMD2(50, 80), SIMD2(10, 50), SIMD2(90, 50)])
        let points = FaceAlignment.points(from: detection)
        XCTAssertEqual(points.count, 5)
        XCTAssertEqual(points[3].x, 50 - 0.414 * 40, accuracy: 1e-4)
        XCTAssertEqual(points[4].x, 50 + 0.414 * 40, accuracy: 1e-4)
        XCTAssertEqual(points[3].y, 80)
    }

    func testStandardDepthsBuildFromTheirConfigs() throws {
        // insightface's r50: 43,628,992 values (weights and BatchNorm statistics, as PyTorch's
        // state dict holds them); r100: 65,225,792.
        let loader = WeightLoader(randomSeed: 1)
        _ = try IResNet(loader.root, config: .r50)
        XCTAssertEqual(loader.parameterCount, 43_628_992)
        XCTAssertEqual(ArcFaceConfig.r100.layers, [3, 13, 30, 3])
    }

    func testBadWeightsAreNamed() throws {
        let folder = Fixtures.temporaryDirectory("arcface-bad")
        defer { try? FileManager.default.removeItem(at: folder) }
        XCTAssertThrowsError(try ArcFace(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("convert_arcface.py"), "\(error)")
        }
        let source = try SafetensorsFile(url: Self.folder.appendingPathComponent("arcface.safetensors"))
        var tensors: [String: Tensor] = [:]
        for name in source.tensorNames where name != "layer2.0.bn1.running_var" { tensors[name] = try source.tensor(name) }
        tensors["extra.weight"] = Tensor(shape: [1], values: [0])
        try SafetensorsWriter.write(tensors, to: folder.appendingPathComponent("arcface.safetensors"))
        try FileManager.default.copyItem(at: Self.folder.appendingPathComponent("config.json"),
                                         to: folder.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try ArcFace(folder: folder)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("missing layer2.0.bn1.running_var"), message)
            XCTAssertTrue(message.contains("unexpected extra.weight"), message)
            XCTAssertFalse(message.contains("\n"), message)
        }
    }
}
