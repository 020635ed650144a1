import Foundation
import Formats
import Models
import TensorCore
import TestSupport
import XCTest

/// The Swift BlazeFace against the PyTorch reference (training/blazeface_reference.py, itself
/// checked against a numpy run of the .tflite graph and against MediaPipe's runtime) on real
/// photos (Tests/Fixtures/faces, goldens by training/fixtures/make_face_fixtures.py).
///
/// Tolerances: raw outputs reach ±155; Float32 with a different summation order than
/// PyTorch gave 1.1e-4 there, so 1e-3 absolute. Boxes and keypoints in source pixels: 0.01 px
/// (observed 6e-5: they are raw/128 x the image side). Scores 1e-4 (observed 6e-8).
final class FaceDetectorTests: XCTestCase {
    static let repositoryRoot = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
    static let folder = repositoryRoot.appendingPathComponent("Models/face-detector")
    static let detector: FaceDetector = try! FaceDetector(folder: folder)

    struct Golden: Decodable {
        struct Detection: Decodable { let score: Float; let box: [Float]; let keypoints: [[Float]] }
        struct Image: Decodable { let width: Int; let height: Int; let padding: [Float]; let detections: [Detection] }
        let images: [String: Image]
    }

    func testRawOutputsMatchReference() throws {
        let golden = try SafetensorsFile(url: Fixtures.url("faces/blazeface_astronaut_raw.safetensors"))
        let (scores, regressors) = Self.detector.network(try golden.tensor("input"))
        let expectedScores = try golden.tensor("scores").scalars, expectedBoxes = try golden.tensor("regressors").scalars
        XCTAssertEqual(scores.count, 896)
        XCTAssertEqual(regressors.count, 896 * 16)
        let scoreError = zip(scores, expectedScores).map { abs($0 - $1) }.max()!
        let boxError = zip(regressors, expectedBoxes).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(scoreError, 1e-3)
        XCTAssertLessThan(boxError, 1e-3)
    }

    func testLetterboxedInputIsPillowsBilinear() throws {
        let photo = try ImageFile.load(Fixtures.url("faces/astronaut.png"))
        let golden = try ImageFile.load(Fixtures.url("faces/astronaut_letterbox128.png"))
        let ours = DetectorLetterbox(width: photo.width, height: photo.height).inputImage(photo, size: 128)
        XCTAssertEqual(ours, golden)
    }

    func testDetectionsMatchReferenceOnRealPhotos() throws {
        let data = try Data(contentsOf: Fixtures.url("faces/blazeface_golden.json"))
        let golden = try JSONDecoder().decode(Golden.self, from: data)
        XCTAssertEqual(golden.images.count, 5)
        for (name, expected) in golden.images.sorted(by: { $0.key < $1.key }) {
            let photo = try ImageFile.load(Fixtures.url("faces/\(name)"))
            XCTAssertEqual([photo.width, photo.height], [expected.width, expected.height], name)
            let found = Self.detector.detect(photo)
            XCTAssertEqual(found.count, expected.detections.count, name)
            for (ours, theirs) in zip(found, expected.detections) {
                XCTAssertEqual(ours.score, theirs.score, accuracy: 1e-4, name)
                let box = [ours.box.xmin, ours.box.ymin, ours.box.xmax, ours.box.ymax]
                for (a, b) in zip(box, theirs.box) { XCTAssertEqual(a, b, accuracy: 0.01, "\(name) box") }
                XCTAssertEqual(ours.keypoints.count, 6)
                for (a, b) in zip(ours.keypoints, theirs.keypoints) {
                    XCTAssertEqual(a.x, b[0], accuracy: 0.01, "\(name) keypoint")
                    XCTAssertEqual(a.y, b[1], accuracy: 0.01, "\(name) keypoint")
                }
            }
        }
    }

    func testAstronautFaceIsWhereHerFaceIs() throws {
        // Eileen Collins' face in the 512x512 NASA portrait: roughly x 175-275, y 80-175,
        // eyes level near y 105, the right eye (her right, image left) left of the left eye.
        let photo = try ImageFile.load(Fixtures.url("faces/astronaut.png"))
        let faces = Self.detector.detect(photo)
        XCTAssertEqual(faces.count, 1)
        let face = try XCTUnwrap(faces.first)
        XCTAssertGreaterThan(face.score, 0.9)
        XCTAssertEqual(face.box.centerX, 225, accuracy: 10)
        XCTAssertEqual(face.box.centerY, 128, accuracy: 10)
        XCTAssertEqual(face.box.width, 95, accuracy: 10)
        let rightEye = face.keypoints[0], leftEye = face.keypoints[1], nose = face.keypoints[2], mouth = face.keypoints[3]
        XCTAssertLessThan(rightEye.x, leftEye.x)
        XCTAssertLessThan(rightEye.y, nose.y)
        XCTAssertLessThan(nose.y, mouth.y)
        XCTAssertEqual(Self.detector.config.keypoints, ["right_eye", "left_eye", "nose_tip", "mouth_center",
                                                          "right_ear_tragion", "left_ear_tragion"])
    }

    func testAnchorsFollowMediaPipesLayout() {
        let anchors = SSDAnchors.generate(Self.detector.config.anchors)
        XCTAssertEqual(anchors.count, 896)
        // Stride 8: a 16x16 grid, 2 anchors per cell; stride 16 (three layers merged): 8x8, 6 per cell.
        XCTAssertEqual(anchors[0], SSDAnchor(xCenter: 0.5 / 16, yCenter: 0.5 / 16, width: 1, height: 1))
        XCTAssertEqual(anchors[1], anchors[0])
        XCTAssertEqual(anchors[2].xCenter, 1.5 / 16)
        XCTAssertEqual(anchors[32].yCenter, 1.5 / 16)
        XCTAssertEqual(anchors[511].xCenter, 15.5 / 16)
        XCTAssertEqual(anchors[512], SSDAnchor(xCenter: 0.5 / 8, yCenter: 0.5 / 8, width: 1, height: 1))
        XCTAssertEqual(anchors[517], anchors[512])
        XCTAssertEqual(anchors[518].xCenter, 1.5 / 8)
        XCTAssertEqual(anchors[895], SSDAnchor(xCenter: 7.5 / 8, yCenter: 7.5 / 8, width: 1, height: 1))
    }

    func testDecodingHandComputed() {
        // One anchor at (0.25, 0.75), size 1; regressors (x, y, w, h) = (12.8, -6.4, 32, 64) / 128
        // -> centre (0.35, 0.70), size 0.25 x 0.5; keypoint (64, 0) -> (0.75, 0.75). Logit 0 -> 0.5.
        var options = Self.detector.config.decoding
        options.numBoxes = 1
        options.numKeypoints = 1
        options.numCoords = 6
        let anchor = SSDAnchor(xCenter: 0.25, yCenter: 0.75, width: 1, height: 1)
        let found = DetectionDecoder.decode(scores: [0], regressors: [12.8, -6.4, 32, 64, 64, 0], anchors: [anchor], options: options)
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found[0].score, 0.5)
        XCTAssertEqual(found[0].box.xmin, 0.35 - 0.125, accuracy: 1e-6)
        XCTAssertEqual(found[0].box.ymin, 0.70 - 0.25, accuracy: 1e-6)
        XCTAssertEqual(found[0].box.xmax, 0.35 + 0.125, accuracy: 1e-6)
        XCTAssertEqual(found[0].box.ymax, 0.70 + 0.25, accuracy: 1e-6)
        XCTAssertEqual(found[0].keypoints, [SIMD2(0.75, 0.75)])
        // Below the threshold: logit -1 -> 0.27 < 0.5; clipping keeps ±1000 finite.
        XCTAssertTrue(DetectionDecoder.decode(scores: [-1], regressors: [0, 0, 0, 0, 0, 0], anchors: [anchor], options: options).isEmpty)
        XCTAssertEqual(DetectionDecoder.decode(scores: [1000], regressors: [0, 0, 0, 0, 0, 0], anchors: [anchor], options: options)[0].score, 1)
    }

    func testWeightedNonMaxSuppressionHandComputed() {
        func face(_ score: Float, _ x: Float) -> FaceDetection {
            FaceDetection(score: score, box: BoundingBox(xmin: x, ymin: 0, xmax: x + 1, ymax: 1), keypoints: [SIMD2(x, 0)])
        }
        // IoU of [0,1] and [0.1,1.1] (unit height) = 0.9 / 1.1 = 0.82 > 0.3: one cluster, blended
        // (0.9·0 + 0.6·0.1) / 1.5 = 0.04, score stays 0.9. [5,6] overlaps nothing: kept as is.
        let kept = NonMaxSuppression.apply([face(0.6, 0.1), face(0.7, 5), face(0.9, 0)], threshold: 0.3)
        XCTAssertEqual(kept.count, 2)
        XCTAssertEqual(kept[0].score, 0.9)
        XCTAssertEqual(kept[0].box.xmin, 0.04, accuracy: 1e-6)
        XCTAssertEqual(kept[0].box.xmax, 1.04, accuracy: 1e-6)
        XCTAssertEqual(kept[0].keypoints[0].x, 0.04, accuracy: 1e-6)
        XCTAssertEqual(kept[1], face(0.7, 5))
        // Plain suppression keeps the best box untouched.
        XCTAssertEqual(NonMaxSuppression.apply([face(0.6, 0.1), face(0.9, 0)], threshold: 0.3, weighted: false), [face(0.9, 0)])
    }

    func testBadConfigIsOneLineNamingTheFile() throws {
        let folder = Fixtures.temporaryDirectory("face-detector")
        defer { try? FileManager.default.removeItem(at: folder) }
        XCTAssertThrowsError(try FaceDetector(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("config.json: not found"), "\(error)")
        }
        var text = try String(contentsOf: Self.folder.appendingPathComponent("config.json"), encoding: .utf8)
        text = text.replacingOccurrences(of: "\"num_boxes\": 896", with: "\"num_boxes\": 900")
        try text.write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FaceDetector(folder: folder)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("config.json") && message.contains("896") && message.contains("900"), message)
            XCTAssertFalse(message.contains("\n"))
        }
    }
}
