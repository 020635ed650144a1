import Foundation
import TestSupport
import XCTest
@testable import Formats

/// The JPEG fixtures show a 32x16 picture in four flat 16x8 quadrants (red, green / blue,
/// white), saved at quality 95 with 4:4:4 sampling, so colours are within a few levels.
final class JPEGReadTests: XCTestCase {
    static let quadrants = (topLeft: RGBColor(255, 0, 0), topRight: RGBColor(0, 255, 0),
                            bottomLeft: RGBColor(0, 0, 255), bottomRight: RGBColor.white)

    private func assertQuadrantPicture(_ image: RGBImage, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(image.width, 32, label, file: file, line: line)
        XCTAssertEqual(image.height, 16, label, file: file, line: line)
        guard image.width == 32, image.height == 16 else { return }
        XCTAssertNil(image.alpha, file: file, line: line)
        for (x, y) in [(0, 0), (4, 3), (15, 7)] {
            assertColor(image.color(x: x, y: y), Self.quadrants.topLeft, tolerance: 6, "\(label) top-left (\(x),\(y))", file: file, line: line)
        }
        assertColor(image.color(x: 31, y: 0), Self.quadrants.topRight, tolerance: 6, "\(label) top-right", file: file, line: line)
        assertColor(image.color(x: 0, y: 15), Self.quadrants.bottomLeft, tolerance: 6, "\(label) bottom-left", file: file, line: line)
        assertColor(image.color(x: 31, y: 15), Self.quadrants.bottomRight, tolerance: 6, "\(label) bottom-right", file: file, line: line)
    }

    func testBaselineAndProgressive() throws {
        assertQuadrantPicture(try JPEGCodec.read(Fixtures.url("formats/baseline.jpg")), "baseline")
        assertQuadrantPicture(try JPEGCodec.read(Fixtures.url("formats/progressive.jpg")), "progressive")
    }

    func testGrayscaleBecomesRGB() throws {
        let image = try JPEGCodec.read(Fixtures.url("formats/gray.jpg"))
        XCTAssertEqual(image.width, 16)
        XCTAssertEqual(image.height, 16)
        assertColor(image.color(x: 0, y: 0), .black, tolerance: 2)
        assertColor(image.color(x: 15, y: 15), .white, tolerance: 2)
        let pixel = image.color(x: 3, y: 9)
        XCTAssertTrue(pixel.red == pixel.green && pixel.green == pixel.blue)
    }

    func testAdobeCMYKIsConvertedToRGB() throws {
        assertQuadrantPicture(try JPEGCodec.read(Fixtures.url("formats/cmyk.jpg")), "cmyk")
    }

    /// orientation-N.jpg stores the picture transformed by the inverse of orientation N,
    /// so every one must come out as the same upright 32x16 picture.
    func testEveryExifOrientationIsApplied() throws {
        for orientation in 1...8 {
            let url = Fixtures.url("formats/orientation-\(orientation).jpg")
            assertQuadrantPicture(try JPEGCodec.read(url), "orientation \(orientation)")
            assertQuadrantPicture(try ImageFile.load(url), "orientation \(orientation) via ImageFile")
        }
        // The stored pixels of orientation 6 are 16 wide and 32 tall.
        let stored = try JPEGCodec.read(Fixtures.url("formats/orientation-6.jpg"), applyOrientation: false)
        XCTAssertEqual(stored.width, 16)
        XCTAssertEqual(stored.height, 32)
        assertColor(stored.color(x: 0, y: 31), Self.quadrants.topLeft, tolerance: 6, "red is bottom-left before rotating")
    }

    func testExifParserReadsBothByteOrders() throws {
        let bigEndian: [UInt8] = [0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08,  // "MM", 42, IFD at 8
                                  0x00, 0x02,                                      // two entries
                                  0x01, 0x0F, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x41, 0x42, 0x43, 0x00,  // Make
                                  0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00,  // orientation 8
                                  0x00, 0x00, 0x00, 0x00]
        XCTAssertEqual(ExifOrientation.parse(exif: bigEndian), .rotate90CounterClockwise)
        let littleEndian: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00,
                                     0x01, 0x00,
                                     0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00]
        XCTAssertEqual(ExifOrientation.parse(exif: littleEndian), .rotate90Clockwise)
        var outOfRange = littleEndian
        outOfRange[18] = 9
        XCTAssertNil(ExifOrientation.parse(exif: outOfRange))
        XCTAssertEqual(ExifOrientation.parse(exif: Array(littleEndian.prefix(20))), .rotate90Clockwise)
        XCTAssertNil(ExifOrientation.parse(exif: Array(littleEndian.prefix(19))))  // value cut off
        XCTAssertNil(ExifOrientation.parse(exif: []))
        var badOffset = littleEndian
        badOffset[4] = 0xF0
        XCTAssertNil(ExifOrientation.parse(exif: badOffset))
    }

    func testOrientationMovesAlphaWithPixels() {
        // 2x1: red (alpha 10), blue (alpha 20); rotate 90 clockwise -> 1x2 with red on top.
        let image = RGBImage(width: 2, height: 1, pixels: [255, 0, 0, 0, 0, 255], alpha: [10, 20])
        let rotated = ExifOrientation.rotate90Clockwise.apply(to: image)
        XCTAssertEqual(rotated.width, 1)
        XCTAssertEqual(rotated.height, 2)
        XCTAssertEqual(rotated.color(x: 0, y: 0), RGBColor(255, 0, 0))
        XCTAssertEqual(rotated.alpha, [10, 20])
        let mirrored = ExifOrientation.mirrorHorizontal.apply(to: image)
        XCTAssertEqual(mirrored.pixels, [0, 0, 255, 255, 0, 0])
        XCTAssertEqual(mirrored.alpha, [20, 10])
    }

    func testTruncatedJPEGIsReportedAsTruncated() throws {
        let bytes = try fixtureBytes("progressive.jpg")
        for cut in [bytes.count / 2, bytes.count - 2, 100] {
            assertFormatError(.truncated, fileName: "cut.jpg", mentions: ["truncated JPEG"]) {
                try JPEGCodec.decode(Data(bytes.prefix(cut)), file: "/photos/cut.jpg")
            }
        }
    }

    func testHugeDimensionsRefusedFromHeaderAlone() throws {
        var bytes = try fixtureBytes("baseline.jpg")
        // SOF0 (FF C0): length(2) precision(1) height(2) width(2).
        let sof = (0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 }!
        bytes[sof + 5] = 0x4E; bytes[sof + 6] = 0x20  // height 20000
        bytes[sof + 7] = 0x4E; bytes[sof + 8] = 0x20  // width 20000
        assertFormatError(.imageTooLarge, fileName: "big.jpg", mentions: ["20000x20000", "400.0 megapixels", "64 megapixel limit"]) {
            try JPEGCodec.decode(Data(bytes), file: "big.jpg")
        }
    }

    func testWrongMagicAndGarbage() throws {
        assertFormatError(.wrongMagic, fileName: "fake.jpg", mentions: ["not a JPEG"]) {
            try JPEGCodec.decode(Data(try fixtureBytes("rgb8.png")), file: "fake.jpg")
        }
        assertFormatError(.corruptData, fileName: "garbage.jpg", mentions: ["invalid JPEG data"]) {
            // SOF0 declaring zero components.
            let bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x08, 0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0xFF, 0xD9]
            return try JPEGCodec.decode(Data(bytes + [UInt8](repeating: 0, count: 16)), file: "garbage.jpg")
        }
    }
}
