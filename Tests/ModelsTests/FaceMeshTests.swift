import Foundation
import Formats
import Models
import TensorCore
import TestSupport
import XCTest

/// The Swift face mesh against the reference (training/face_mesh_reference.py) and against
/// MediaPipe's .tflite run op by op in numpy (training/tflite_numpy.py), on the committed
/// photos; goldens by training/fixtures/make_face_geometry_fixtures.py. The reference itself is
/// held to MediaPipe's runtime by training/tests/test_face_mesh_mediapipe.py.
///
/// Tolerances: raw landmarks are in 192x192 input pixels (values up to ~190): 2e-3 (Float32
/// against float64, other summation order; observed ~3e-4). Landmarks in source pixels: 0.05 px
/// (the crop's bytes may round differently where a sample sits at .5; observed ~1e-3). The
/// region: 1e-3 px and 1e-5 rad.
final class FaceMeshTests: XCTestCase {
    static let repositoryRoot = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
    static let mesh: FaceMesh = try! FaceMesh(folder: repositoryRoot.appendingPathComponent("Models/face-mesh"))

    struct Golden: Decodable {
        struct Detection: Decodable { let score: Float; let box: [Float]; let keypoints: [[Float]] }
        struct Raw: Decodable { let landmarks: [Float]; let presenceLogit: Float }
        struct Face: Decodable {
            let detection: Detection
            let region: [Float]
            let presence: Float
            let landmarks: [[Float]]
            let five: [[Float]]
            let raw: Raw?
        }
        let images: [String: [Face]]

        static func load() throws -> Golden {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(Golden.self, from: Data(contentsOf: Fixtures.url("face-geometry/face_mesh_golden.json")))
        }
    }

    static func detection(_ d: Golden.Detection) -> FaceDetection {
        FaceDetection(score: d.score, box: BoundingBox(xmin: d.box[0], ymin: d.box[1], xmax: d.box[2], ymax: d.box[3]),
                      keypoints: d.keypoints.map { SIMD2($0[0], $0[1]) })
    }

    func testNetworkMatchesTheTFLiteGraphRunInNumpy() throws {
        let golden = try Golden.load()
        let raw = try XCTUnwrap(golden.images["astronaut.png"]?.first?.raw)
        let input = try ImageFile.load(Fixtures.url("face-geometry/face_mesh_astronaut_input.png"))
        let (landmarks, logit) = Self.mesh.network(input.tensor(range: .zeroToOne))
        XCTAssertEqual(landmarks.count, 468 * 3)
        let worst = zip(landmarks, raw.landmarks).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 2e-3)
        XCTAssertEqual(logit, raw.presenceLogit, accuracy: 2e-3)
    }

    func testLandmarksMatchTheReferenceOnRealPhotos() throws {
        let golden = try Golden.load()
        XCTAssertEqual(golden.images.count, 3)
        var worst: Float = 0
        for (name, faces) in golden.images.sorted(by: { $0.key < $1.key }) {
            let photo = try ImageFile.load(Fixtures.url("faces/\(name)"))
            for face in faces {
                let found = Self.mesh.landmarks(in: photo, detection: Self.detection(face.detection))
                let r = found.region
                XCTAssertEqual(r.centerX, face.region[0], accuracy: 1e-3, name)
                XCTAssertEqual(r.centerY, face.region[1], accuracy: 1e-3, name)
                XCTAssertEqual(r.side, face.region[2], accuracy: 1e-3, name)
                XCTAssertEqual(r.rotation, face.region[3], accuracy: 1e-5, name)
                XCTAssertEqual(found.presence, face.presence, accuracy: 1e-4, name)
                XCTAssertTrue(Self.mesh.isFace(found), name)
                XCTAssertEqual(found.points.count, 468)
                for (ours, theirs) in zip(found.points, face.landmarks) {
                    worst = max(worst, abs(ours.x - theirs[0]), abs(ours.y - theirs[1]))
                }
                for (ours, theirs) in zip(found.alignmentPoints, face.five) {
                    XCTAssertEqual(ours.x, theirs[0], accuracy: 0.05, name)
                    XCTAssertEqual(ours.y, theirs[1], accuracy: 0.05, name)
                }
            }
        }
        XCTAssertLessThan(worst, 0.05)
    }

    func testOutlineAndEyesAreWhereTheFaceIs() throws {
        // Eileen Collins (512x512): face box about (177, 81)-(272, 175).
        let photo = try ImageFile.load(Fixtures.url("faces/astronaut.png"))
        let golden = try Golden.load()
        let found = Self.mesh.landmarks(in: photo, detection: Self.detection(golden.images["astronaut.png"]![0].detection))
        XCTAssertEqual(found.faceOutline.count, 36)
        let xs = found.faceOutline.map(\.x), ys = found.faceOutline.map(\.y)
        XCTAssertEqual(xs.min()!, 177, accuracy: 15)
        XCTAssertEqual(xs.max()!, 272, accuracy: 15)
        XCTAssertLessThan(ys.min()!, 90, "the oval reaches the forehead")
        XCTAssertGreaterThan(ys.max()!, 170, "and the chin")
        XCTAssertLessThan(found.rightEyeCenter.x, found.leftEyeCenter.x)
        XCTAssertLessThan(found.leftEyeCenter.y, found.noseTip.y)
        XCTAssertLessThan(found.noseTip.y, found.mouthCorners[0].y)
        // Her pupils sit near (204, 101) and (247, 104): the eye line drops 3.4° to the right.
        // (BlazeFace's left-eye keypoint sits below the pupil, so its line, which sets the
        // mesh's region, says 9.4°.)
        XCTAssertEqual(found.rightEyeCenter.x, 204, accuracy: 2)
        XCTAssertEqual(found.leftEyeCenter.y, 104, accuracy: 2)
        XCTAssertEqual(found.eyeLineAngle * 180 / .pi, 3.4, accuracy: 0.5)
        XCTAssertEqual(found.region.rotation * 180 / .pi, 9.4, accuracy: 0.5)
    }

    func testRegionCornersMapLikeOpenCVsWarp() {
        // An upright 100-px region centred at (60, 40): output pixel 0 -> the top-left corner,
        // pixel 192 -> the bottom-right one; rotated a quarter turn, x runs down the photo.
        let upright = FaceRegion(centerX: 60, centerY: 40, side: 100, rotation: 0).cropToSource(size: 192)
        XCTAssertEqual(upright.apply(0, 0).x, 10, accuracy: 1e-9)
        XCTAssertEqual(upright.apply(0, 0).y, -10, accuracy: 1e-9)
        XCTAssertEqual(upright.apply(192, 192).x, 110, accuracy: 1e-9)
        let turned = FaceRegion(centerX: 60, centerY: 40, side: 100, rotation: .pi / 2).cropToSource(size: 100)
        let a = turned.apply(50, 50), b = turned.apply(60, 50)
        XCTAssertEqual(b.x - a.x, 0, accuracy: 1e-6)
        XCTAssertEqual(b.y - a.y, 10, accuracy: 1e-6)
        let p = FaceRegion(centerX: 60, centerY: 40, side: 100, rotation: .pi / 2).project(0.6, 0.5)
        XCTAssertEqual(p.x, 60, accuracy: 1e-4)
        XCTAssertEqual(p.y, 50, accuracy: 1e-4)
    }

    func testBadConfigNamesTheKey() throws {
        let folder = Fixtures.temporaryDirectory("face-mesh-config")
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = Self.repositoryRoot.appendingPathComponent("Models/face-mesh/config.json")
        var json = try String(contentsOf: source, encoding: .utf8)
        json = json.replacingOccurrences(of: "\"inputs\": [\n    \"p_re_lu_1\"", with: "\"inputs\": [\n    \"nowhere\"")
        let broken = folder.appendingPathComponent("config.json")
        try json.write(to: broken, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FaceMeshConfig.load(broken)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("config.json") && message.contains("nowhere"), message)
            XCTAssertFalse(message.contains("\n"), message)
        }
    }
}
