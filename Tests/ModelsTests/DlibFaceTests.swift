import Foundation
import Formats
import Models
import TensorCore
import TestSupport
import XCTest

/// The Swift port of dlib's face descriptor pipeline (Sources/Models/FaceScoring) against
/// Tests/Fixtures/dlib-face (training/fixtures/make_dlib_face_fixtures.py):
/// - the shape predictor and the face chips against dlib itself (dlib runs the tiny predictor
///   file the converter's inverse wrote; the chips are dlib.get_face_chip's, one through its
///   image pyramid), exactly: both are integer results (pixel positions, bytes);
/// - the ResNet, tiny and random, converted from dlib's file format, against the PyTorch
///   reference (training/dlib_face_reference.py, which matches dlib on the real model to
///   3e-7): 1e-4 absolute (descriptors around ±2; float32 with another summation order).
final class DlibFaceTests: XCTestCase {
    static let folder = Fixtures.url("dlib-face")

    func testTinyResNetMatchesReference() throws {
        let config = try DlibResNetConfig.load(Self.folder.appendingPathComponent("tiny-resnet.json"))
        let loader = WeightLoader(source: try SafetensorsWeightSource(url: Self.folder.appendingPathComponent("tiny-resnet.safetensors")))
        let network = try DlibFaceResNet(loader.root, config: config)
        try loader.finish()
        let golden = try SafetensorsFile(url: Self.folder.appendingPathComponent("tiny-resnet-golden.safetensors"))
        let chipValues = try golden.tensor("chips").scalars
        let side = config.input.size
        let chips = (0..<2).map { n in
            RGBImage(width: side, height: side, pixels: chipValues[(n * side * side * 3)..<((n + 1) * side * side * 3)].map { UInt8($0) })
        }
        let descriptors = network(chips: chips)
        let expected = try golden.tensor("descriptors")
        XCTAssertEqual(descriptors.shape, expected.shape)
        let error = zip(descriptors.scalars, expected.scalars).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(error, 1e-4)
        XCTAssertGreaterThan(expected.scalars.map(abs).max()!, 0.1, "the golden is not trivially small")
    }

    struct LandmarkGolden: Decodable {
        struct Face: Decodable { let photo: String; let rect: [Int]; let points: [[Int]] }
        let faces: [Face]
    }

    func testShapePredictorMatchesDlib() throws {
        let predictor = try DlibShapePredictor(url: Self.folder.appendingPathComponent("tiny-landmarks.safetensors"))
        let golden = try JSONDecoder().decode(LandmarkGolden.self, from: Data(contentsOf: Self.folder.appendingPathComponent("landmarks-golden.json")))
        XCTAssertEqual(golden.faces.count, 4)
        for face in golden.faces {
            let image = try ImageFile.load(Fixtures.url("faces/\(face.photo)"))
            let rect = DlibRectangle(left: face.rect[0], top: face.rect[1], right: face.rect[2], bottom: face.rect[3])
            let points = predictor(image, rect: rect)
            XCTAssertEqual(points.map { [$0.x, $0.y] }, face.points, "\(face.photo) \(face.rect)")
        }
    }

    struct ChipGolden: Decodable {
        struct Chip: Decodable { let photo: String; let `repeat`: Int; let landmarks: [[Int]]; let chip: String }
        let size: Int
        let padding: Double
        let chips: [Chip]
    }

    func testFaceChipsMatchDlib() throws {
        let golden = try JSONDecoder().decode(ChipGolden.self, from: Data(contentsOf: Self.folder.appendingPathComponent("chips-golden.json")))
        XCTAssertEqual(golden.chips.count, 4)
        XCTAssertTrue(golden.chips.contains { $0.`repeat` == 3 }, "a face large enough for dlib's pyramid")
        for entry in golden.chips {
            let image = Self.repeated(try ImageFile.load(Fixtures.url("faces/\(entry.photo)")), entry.`repeat`)
            let chip = DlibFaceChip.extract(image, landmarks: entry.landmarks.map { SIMD2($0[0], $0[1]) },
                                            size: golden.size, padding: golden.padding)
            let expected = try ImageFile.load(Self.folder.appendingPathComponent(entry.chip))
            XCTAssertEqual(chip.width, expected.width)
            let differing = zip(chip.pixels, expected.pixels).filter { $0 != $1 }.count
            XCTAssertEqual(differing, 0, "\(entry.chip): \(differing) bytes differ from dlib's chip")
        }
    }

    /// Every pixel as an n x n block (numpy's repeat along both axes).
    static func repeated(_ image: RGBImage, _ n: Int) -> RGBImage {
        guard n > 1 else { return image }
        var pixels = [UInt8](repeating: 0, count: image.width * n * image.height * n * 3)
        for y in 0..<(image.height * n) {
            for x in 0..<(image.width * n) {
                for k in 0..<3 { pixels[(y * image.width * n + x) * 3 + k] = image.pixels[((y / n) * image.width + x / n) * 3 + k] }
            }
        }
        return RGBImage(width: image.width * n, height: image.height * n, pixels: pixels)
    }

    func testConfigErrorsNameTheKey() throws {
        let url = Self.folder.appendingPathComponent("tiny-resnet.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var layers = json["layers"] as! [[String: Any]]
        layers[5]["op"] = "gelu"
        json["layers"] = layers
        let bad = Fixtures.temporaryDirectory("dlib-config").appendingPathComponent("resnet.json")
        try JSONSerialization.data(withJSONObject: json).write(to: bad)
        XCTAssertThrowsError(try DlibResNetConfig.load(bad)) { error in
            XCTAssertTrue("\(error)".contains("layers[5].op"), "\(error)")
            XCTAssertTrue("\(error)".contains("gelu"), "\(error)")
        }
    }
}
