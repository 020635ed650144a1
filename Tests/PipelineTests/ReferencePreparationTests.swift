import Foundation
import Formats
import Pipeline
import TestSupport
import XCTest

/// Reference preparation on real public-domain photos (Tests/Fixtures/faces): NASA's portrait
/// of Eileen Collins, the US Navy's of Grace Hopper, both side by side, a shrunken copy, and
/// a cup of coffee. The detector comes from the repository's Models/face-detector, located by
/// ShippedResources as the CLI locates it.
final class ReferencePreparationTests: XCTestCase {
    func photo(_ name: String) -> URL { Fixtures.url("faces/\(name)") }

    /// Asserts the error is a ReferencePreparationError whose one-line message contains `mentions`.
    func assertPreparationError(_ mentions: [String], file: StaticString = #filePath, line: UInt = #line,
                                _ body: () throws -> Any) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue(error is ReferencePreparationError, "\(type(of: error)): \(error)", file: file, line: line)
            let message = "\(error)"
            XCTAssertFalse(message.contains("\n"), message, file: file, line: line)
            XCTAssertEqual(error.localizedDescription, message, file: file, line: line)
            for mention in mentions {
                XCTAssertTrue(message.contains(mention), "'\(mention)' not in: \(message)", file: file, line: line)
            }
        }
    }

    func testAstronautFaceCroppedAndMasked() throws {
        // Without the face mesh: the upright crop and the ellipse (FaceGeometryPreparationTests
        // cover the mesh's levelled crop and outline mask).
        var upright = ReferencePreparation.Options()
        upright.useFaceMesh = false
        let reference = try ReferencePreparation.prepare(file: photo("astronaut.png"), outputSize: 224, options: upright, faces: shippedFaces)
        XCTAssertEqual(reference.faceCount, 1)
        XCTAssertEqual(reference.summary, "1 face · crop 1.3x")
        let face = try XCTUnwrap(reference.faceBox)
        // Her face in the 512x512 portrait (reference detector: (177, 81)-(272, 175)).
        XCTAssertEqual(face.xmin, 177.3, accuracy: 1)
        XCTAssertEqual(face.ymin, 80.6, accuracy: 1)
        XCTAssertEqual(face.xmax, 271.8, accuracy: 1)
        XCTAssertEqual(face.ymax, 175.1, accuracy: 1)
        // The crop: a square of 1.3 x the longer side (94.5 -> 123 px), centred on the face.
        let crop = reference.cropRegion
        XCTAssertEqual(crop.width, 123)
        XCTAssertEqual(crop.height, 123)
        XCTAssertEqual(crop.centerX, face.centerX, accuracy: 1)
        XCTAssertEqual(crop.centerY, face.centerY, accuracy: 1)
        XCTAssertEqual([reference.image.width, reference.image.height], [224, 224])
        // Corners are background (the CLIP mean colour); the face in the middle is untouched:
        // the same as cropping and resizing by hand.
        XCTAssertEqual(reference.image.color(x: 0, y: 0), ReferenceMask.backgroundColor)
        XCTAssertEqual(reference.image.color(x: 223, y: 223), ReferenceMask.backgroundColor)
        let full = try ImageFile.load(photo("astronaut.png"))
        let byHand = full.cropped(x: Int(crop.xmin), y: Int(crop.ymin), width: 123, height: 123)
            .resized(width: 224, height: 224, filter: .bicubic)
        XCTAssertEqual(reference.image.color(x: 112, y: 112), byHand.color(x: 112, y: 112))
        XCTAssertEqual(reference.image.color(x: 80, y: 60), byHand.color(x: 80, y: 60))
        XCTAssertEqual(reference.mask?.width, 224)
    }

    func testGraceHopperFound() throws {
        let reference = try ReferencePreparation.prepare(file: photo("grace_hopper.jpg"), outputSize: 112, faces: shippedFaces)
        XCTAssertEqual(reference.faceCount, 1)
        let face = try XCTUnwrap(reference.faceBox)
        // Between her glasses and her chin in the 512x600 portrait: (169, 145)-(366, 342).
        XCTAssertEqual(face.centerX, 267.4, accuracy: 1)
        XCTAssertEqual(face.centerY, 243.8, accuracy: 1)
        XCTAssertEqual([reference.image.width, reference.image.height], [112, 112])
    }

    func testLargestOfSeveralFacesIsUsedAndCounted() throws {
        // two_faces.png: the astronaut's head (face ~107 px) left, Grace Hopper's (~75 px) right.
        let reference = try ReferencePreparation.prepare(file: photo("two_faces.png"), outputSize: 64, faces: shippedFaces)
        XCTAssertEqual(reference.faceCount, 2)
        XCTAssertEqual(reference.detections.count, 2)
        XCTAssertEqual(reference.summary, "2 faces, largest used · crop 1.3x · outline mask")
        let face = try XCTUnwrap(reference.faceBox)
        XCTAssertLessThan(face.centerX, 180, "the larger face is the left one")
        XCTAssertEqual(face.width, 107, accuracy: 3)
        // The smaller Hopper face has the better score (0.956 vs 0.951): area, not score, decides.
        XCTAssertGreaterThan(reference.detections[0].box.centerX, 180)
        XCTAssertGreaterThan(reference.detections[0].score, reference.detections[1].score)
    }

    func testNoFaceSuggestsCrop() {
        assertPreparationError(["coffee.png", "no face found", "--crop x,y,w,h", "--crop none"]) {
            try ReferencePreparation.prepare(file: self.photo("coffee.png"), outputSize: 224, faces: shippedFaces)
        }
    }

    func testTinyFaceGivesItsSizeAndTheMinimum() {
        // tiny_face.png is the astronaut at 96x96: her face is ~18 px.
        assertPreparationError(["tiny_face.png", "18x18 pixels", "40-pixel minimum"]) {
            try ReferencePreparation.prepare(file: self.photo("tiny_face.png"), outputSize: 224, faces: shippedFaces)
        }
        var lenient = ReferencePreparation.Options()
        lenient.minimumFaceSize = 10
        XCTAssertNoThrow(try ReferencePreparation.prepare(file: photo("tiny_face.png"), outputSize: 224, options: lenient, faces: shippedFaces))
    }

    func testUnreadableFileIsNamed() throws {
        let folder = Fixtures.temporaryDirectory("reference")
        defer { try? FileManager.default.removeItem(at: folder) }
        let notAnImage = folder.appendingPathComponent("notes.png")
        try Data("hello".utf8).write(to: notAnImage)
        assertPreparationError(["notes.png", "cannot read the reference photo", "not a PNG or JPEG"]) {
            try ReferencePreparation.prepare(file: notAnImage, outputSize: 224, faces: shippedFaces)
        }
        assertPreparationError(["missing.jpg", "cannot read"]) {
            try ReferencePreparation.prepare(file: folder.appendingPathComponent("missing.jpg"), outputSize: 224, faces: shippedFaces)
        }
    }

    func testCropParsing() throws {
        XCTAssertEqual(try CropMode(parsing: "auto"), .auto)
        XCTAssertEqual(try CropMode(parsing: " None "), CropMode.none)
        XCTAssertEqual(try CropMode(parsing: "10, 20,30 ,40"), .box(x: 10, y: 20, width: 30, height: 40))
        XCTAssertEqual(CropMode.box(x: 1, y: 2, width: 3, height: 4).description, "1,2,3,4")
        for (text, mention) in [("12,4", "expected auto, none or x,y,w,h"), ("", "expected auto"),
                                ("1,2,3,4,5", "expected auto"), ("a,0,10,10", "x 'a' is not a whole number"),
                                ("0,0,10,1.5", "h '1.5' is not a whole number"), ("-1,0,10,10", "must not be negative"),
                                ("0,0,0,10", "must be positive"), ("0,0,,10", "w '' is not")] {
            assertPreparationError(["--crop '\(text)'", mention]) { try CropMode(parsing: text) }
        }
    }

    func testBoxOutsideThePhotoIsRefused() {
        assertPreparationError(["astronaut.png", "--crop 450,0,100,100", "512x512"]) {
            try ReferencePreparation.prepare(file: self.photo("astronaut.png"), crop: .box(x: 450, y: 0, width: 100, height: 100), outputSize: 224, faces: shippedFaces)
        }
    }

    func testExplicitBoxSkipsTheDetector() throws {
        // A box over the coffee cup: no face needed, the box is used as given (made square).
        let reference = try ReferencePreparation.prepare(file: photo("coffee.png"), crop: .box(x: 100, y: 40, width: 120, height: 100),
                                                         outputSize: 96, faces: shippedFaces)
        XCTAssertNil(reference.faceCount)
        XCTAssertEqual(reference.summary, "crop 100,40,120,100")
        XCTAssertEqual(reference.cropRegion.width, 120)
        XCTAssertEqual(reference.cropRegion.xmin, 100)
        XCTAssertEqual(reference.cropRegion.ymin, 30, "a 120-px square centred on the box's centre (y 90)")
        XCTAssertEqual(reference.faceBox?.ymax, 140)
        XCTAssertNotNil(reference.mask)
    }

    func testNoneKeepsTheWholePhotoPaddedToASquare() throws {
        // Grace Hopper is 512x600: centred on a 600x600 square, 44 px of background each side.
        let reference = try ReferencePreparation.prepare(file: photo("grace_hopper.jpg"), crop: .none, outputSize: 150, faces: shippedFaces)
        XCTAssertNil(reference.faceBox)
        XCTAssertNil(reference.mask, "no mask for the whole image unless asked")
        XCTAssertEqual(reference.summary, "whole image")
        XCTAssertEqual(reference.cropRegion.xmin, -44)
        XCTAssertEqual(reference.cropRegion.width, 600)
        // 44/600 of 150 = 11 px of padding on the left: its middle is pure background.
        XCTAssertEqual(reference.image.color(x: 5, y: 75), ReferenceMask.backgroundColor)
        XCTAssertNotEqual(reference.image.color(x: 75, y: 75), ReferenceMask.backgroundColor)
    }

    func testEllipseMaskShapeAndBackgroundNormalisesToZero() {
        let mask = ReferenceMask.ellipse(width: 100, height: 100)
        XCTAssertEqual(mask.values[50 * 100 + 50], 1)
        XCTAssertEqual(mask.values[0], 0)
        // Inside the kept ellipse (0.80 x 0.96 of the side): 1 up to x = 10 from the centre's 40;
        // then a smooth fall to 0 by 1.15 x the radius (x = 4).
        XCTAssertEqual(mask.values[50 * 100 + 11], 1)
        XCTAssertEqual(mask.values[50 * 100 + 3], 0)
        let ray = (3...11).map { mask.values[50 * 100 + $0] }
        XCTAssertEqual(ray, ray.sorted(), "rises towards the centre")
        XCTAssertTrue(ray.contains { $0 > 0 && $0 < 1 }, "soft edge")
        // Symmetric left/right and top/bottom.
        XCTAssertEqual(mask.values[50 * 100 + 7], mask.values[50 * 100 + 92])
        XCTAssertEqual(mask.values[7 * 100 + 50], mask.values[92 * 100 + 50])
        // CLIP normalisation of the background colour: (byte/255 − mean) / std ≈ 0.
        let color = ReferenceMask.backgroundColor
        let mean = [0.48145466, 0.4578275, 0.40821073], std = [0.26862954, 0.26130258, 0.27577711]
        for (byte, (m, s)) in zip([color.red, color.green, color.blue], zip(mean, std)) {
            XCTAssertLessThan(abs((Double(byte) / 255 - m) / s), 0.01)
        }
        // Applying: kept pixels unchanged, masked ones the background colour.
        let red = RGBImage(width: 100, height: 100, color: RGBColor(255, 0, 0))
        let applied = mask.apply(to: red)
        XCTAssertEqual(applied.color(x: 50, y: 50), RGBColor(255, 0, 0))
        XCTAssertEqual(applied.color(x: 0, y: 0), color)
    }
}
