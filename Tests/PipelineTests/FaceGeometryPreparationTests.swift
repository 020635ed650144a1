import Foundation
import Formats
import Models
import Pipeline
import TensorCore
import TestSupport
import XCTest

/// The face mesh in reference preparation (eyes levelled, the face outline as the mask) and
/// the ArcFace embedding API, on the committed photos with Models/face-mesh and the tiny
/// random ArcFace fixture.
final class FaceGeometryPreparationTests: XCTestCase {
    func photo(_ name: String) -> URL { Fixtures.url("faces/\(name)") }

    func testMeshLevelsTheCropAndMasksTheFaceOutline() throws {
        let reference = try ReferencePreparation.prepare(file: photo("astronaut.png"), outputSize: 224, faces: shippedFaces)
        XCTAssertEqual(reference.summary, "1 face · crop 1.3x · outline mask")
        let landmarks = try XCTUnwrap(reference.landmarks)
        // Her eye line drops 3.4° to the right (clockwise on screen): the crop turns with it.
        XCTAssertEqual(reference.rotation, landmarks.eyeLineAngle)
        XCTAssertEqual(reference.rotation * 180 / .pi, 3.4, accuracy: 0.5)
        let mask = try XCTUnwrap(reference.mask)
        // Inside the outline: kept; the corners and well outside the jaw: background.
        XCTAssertEqual(mask.values[112 * 224 + 112], 1)
        XCTAssertEqual(mask.values[0], 0)
        XCTAssertEqual(mask.values[223 * 224 + 5], 0)
        XCTAssertEqual(reference.image.color(x: 0, y: 0), ReferenceMask.backgroundColor)
        // Tighter than the ellipse (the outline leaves hair and neck out), and not empty.
        let kept = mask.values.reduce(0, +), ellipse = ReferenceMask.ellipse(width: 224, height: 224).values.reduce(0, +)
        XCTAssertLessThan(kept, ellipse)
        XCTAssertGreaterThan(kept, 0.3 * ellipse)
        // Levelled: the eyes, mapped into the crop, sit on one row (the mask is built in the same frame).
        let crop = reference.cropRegion, side = Float(crop.width), scale = 224 / side
        func inCrop(_ p: SIMD2<Float>) -> SIMD2<Float> {
            let half = (side - 1) / 2, c = cos(-reference.rotation), s = sin(-reference.rotation)
            let d = p - SIMD2(crop.xmin + half, crop.ymin + half)
            return (SIMD2(c * d.x - s * d.y, s * d.x + c * d.y) + half + 0.5) * scale
        }
        let right = inCrop(landmarks.rightEyeCenter), left = inCrop(landmarks.leftEyeCenter)
        XCTAssertEqual(right.y, left.y, accuracy: 0.01)
        XCTAssertEqual(mask.values[Int(right.y) * 224 + Int(right.x)], 1, "the eyes are inside the outline")
        let chin = inCrop(landmarks.points[152])
        XCTAssertGreaterThan(mask.values[Int(chin.y - 3) * 224 + Int(chin.x)], 0.99)
        XCTAssertLessThan(mask.values[min(223, Int(chin.y + 0.07 * 224)) * 224 + Int(chin.x)], 0.01, "below the chin falls to background")
    }

    func testWithoutTheMeshTheEllipseAndUprightCropStay() throws {
        var options = ReferencePreparation.Options()
        options.useFaceMesh = false
        let reference = try ReferencePreparation.prepare(file: photo("astronaut.png"), outputSize: 64, options: options, faces: shippedFaces)
        XCTAssertNil(reference.landmarks)
        XCTAssertEqual(reference.rotation, 0)
        XCTAssertEqual(reference.mask, ReferenceMask.ellipse(width: 64, height: 64))
        XCTAssertEqual(reference.summary, "1 face · crop 1.3x")
        // Asking for the ellipse keeps the levelled crop but not the outline.
        var ellipse = ReferencePreparation.Options()
        ellipse.masking = .ellipse
        let levelled = try ReferencePreparation.prepare(file: photo("astronaut.png"), outputSize: 64, options: ellipse, faces: shippedFaces)
        XCTAssertNotEqual(levelled.rotation, 0)
        XCTAssertEqual(levelled.mask, ReferenceMask.ellipse(width: 64, height: 64))
    }

    func testOutlineMaskOfASquareIsHandComputed() {
        // A 10x10 square in a 40x40 crop: inside 1, feather 0.06 x 40 = 2.4 px outside.
        let square: [SIMD2<Float>] = [SIMD2(15, 15), SIMD2(25, 15), SIMD2(25, 25), SIMD2(15, 25)]
        let mask = ReferenceMask.outline(square, width: 40, height: 40)
        XCTAssertEqual(mask.values[20 * 40 + 20], 1)
        XCTAssertEqual(mask.values[20 * 40 + 15], 1, "pixel centre 15.5 is inside")
        // Centre 25.5: 0.5 px out -> t = 0.5 / 2.4.
        let t: Float = 0.5 / 2.4
        XCTAssertEqual(mask.values[20 * 40 + 25], 1 - t * t * (3 - 2 * t), accuracy: 1e-6)
        XCTAssertEqual(mask.values[20 * 40 + 28], 0, "3.5 px out")
        XCTAssertEqual(mask.values[0], 0)
    }

    func testFaceEmbeddingOfGraceHopper() throws {
        let embedder = try FaceEmbedder(arcfaceFolder: Fixtures.url("face-geometry/arcface-tiny"), faces: shippedFaces)
        let image = try ImageFile.load(photo("grace_hopper.jpg"))
        let found = try embedder.embed(image, file: "grace_hopper.jpg")
        XCTAssertEqual(found.pointsSource, "face mesh")
        XCTAssertEqual(found.faceCount, 1)
        XCTAssertEqual(found.values.count, 64)
        XCTAssertEqual(found.values.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
        // The same face, points and crop as the fixture's norm_crop: the embedding agrees with
        // PyTorch's on the cv2 crop up to the crops' grey-level differences.
        let golden = try SafetensorsFile(url: Fixtures.url("face-geometry/arcface_golden.safetensors")).tensor("embedding").scalars
        let norm = golden.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let cosine = zip(found.values, golden).reduce(0) { $0 + $1.0 * $1.1 } / norm
        XCTAssertGreaterThan(cosine, 0.999)
        XCTAssertEqual(try embedder.faceEmbedding(of: image), found.values)
        // Without the mesh the detector's keypoints are used: a close but different crop.
        let keypoints = try FaceEmbedder(arcface: embedder.arcface, faces: shippedFaces, useMesh: false).embed(image, file: "grace_hopper.jpg")
        XCTAssertEqual(keypoints.pointsSource, "detector keypoints")
        XCTAssertEqual(keypoints.points[0].x, found.points[0].x, accuracy: 6)
        XCTAssertNotEqual(keypoints.values, found.values)
    }

    func testNoFaceIsAOneLineError() throws {
        let embedder = try FaceEmbedder(arcfaceFolder: Fixtures.url("face-geometry/arcface-tiny"), faces: shippedFaces)
        let coffee = try ImageFile.load(photo("coffee.png"))
        XCTAssertThrowsError(try embedder.embed(coffee, file: "coffee.png")) { error in
            XCTAssertEqual("\(error)".contains("coffee.png: no face found to embed"), true, "\(error)")
        }
    }
}
