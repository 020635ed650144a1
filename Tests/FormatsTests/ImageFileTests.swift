import Foundation
import TensorCore
import TestSupport
import XCTest
@testable import Formats

final class ImageFileTests: XCTestCase {
    func testDetectsFormatByContentNotExtension() throws {
        XCTAssertEqual(ImageFormat.detect(try fixtureBytes("rgb8.png")), .png)
        XCTAssertEqual(ImageFormat.detect(try fixtureBytes("baseline.jpg")), .jpeg)
        XCTAssertNil(ImageFormat.detect(Array("GIF89a".utf8)))
        XCTAssertNil(ImageFormat.detect([UInt8]()))

        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let misnamed = try writeTemporary(try fixtureBytes("rgb8.png"), name: "actually-png.jpg", in: directory)
        XCTAssertEqual(try ImageFile.load(misnamed).color(x: 2, y: 1), RGBColor(10, 20, 30))
        let misnamedJPEG = try writeTemporary(try fixtureBytes("baseline.jpg"), name: "actually-jpeg.png", in: directory)
        XCTAssertEqual(try ImageFile.load(misnamedJPEG).width, 32)
    }

    func testUnsupportedAndUnknownFilesNameTheProblem() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let gif = try writeTemporary(Array("GIF89a".utf8) + [1, 0, 1, 0], name: "anim.gif", in: directory)
        assertFormatError(.unsupported, fileName: "anim.gif", mentions: ["GIF images are not supported"]) { try ImageFile.load(gif) }
        let text = try writeTemporary(Array("hello world".utf8), name: "notes.png", in: directory)
        assertFormatError(.wrongMagic, fileName: "notes.png", mentions: ["not a PNG or JPEG", "68 65 6C 6C"]) { try ImageFile.load(text) }
        let empty = try writeTemporary([], name: "empty.jpg", in: directory)
        assertFormatError(.truncated, fileName: "empty.jpg", mentions: ["empty file"]) { try ImageFile.load(empty) }
        assertFormatError(.unreadable, fileName: "missing.png", mentions: ["No such file"]) {
            try ImageFile.load(directory.appendingPathComponent("missing.png"))
        }
        assertFormatError(.unreadable, fileName: directory.lastPathComponent, mentions: ["not a regular file"]) {
            try ImageFile.load(directory)
        }
    }

    func testSizeLimitAppliesThroughImageFile() throws {
        assertFormatError(.imageTooLarge, fileName: "baseline.jpg", mentions: ["32x16", "limit"]) {
            try ImageFile.load(Fixtures.url("formats/baseline.jpg"), maxPixels: 100)
        }
        XCTAssertEqual(ImageSizeLimit.defaultMaxPixels, 64_000_000)
    }

    func testTensorInMinusOneToOne() throws {
        let image = try ImageFile.load(Fixtures.url("formats/rgb8.png"))
        let tensor = image.tensor()
        XCTAssertEqual(tensor.shape, [1, 3, 2, 3])
        XCTAssertEqual(tensor[0, 0, 0, 0], 1)    // red channel of the red pixel
        XCTAssertEqual(tensor[0, 1, 0, 0], -1)   // its green channel
        XCTAssertEqual(tensor[0, 2, 0, 2], 1)    // blue pixel, blue channel
        XCTAssertEqual(tensor[0, 0, 1, 2], 10 / 127.5 - 1, accuracy: 1e-6)
        XCTAssertEqual(tensor[0, 2, 1, 2], 30 / 127.5 - 1, accuracy: 1e-6)
        XCTAssertEqual(RGBImage(tensor: tensor), image)
    }

    func testTensorInZeroToOneAndAlphaOnWhite() throws {
        let image = try ImageFile.load(Fixtures.url("formats/rgba8.png"))
        let tensor = image.tensor(range: .zeroToOne)
        XCTAssertEqual(tensor[0, 0, 0, 2], 1)                     // fully transparent blue -> white
        XCTAssertEqual(tensor[0, 0, 0, 1], 127 / 255, accuracy: 1e-6)  // green at half alpha over white
        XCTAssertEqual(RGBImage(tensor: tensor, range: .zeroToOne), image.flattened())
    }

    func testTensorToImageClampsRoundsAndPicksBatch() {
        let values: [Float] = [-3, -1, 0, 1, 5, .nan,              // batch 0, red
                               -0.99, 0.0039, 0.5, 0.999, 1, 0,   // batch 0, green
                               0, 0, 0, 0, 0, 0,                  // batch 0, blue
                               1, 1, 1, 1, 1, 1,                  // batch 1
                               -1, -1, -1, -1, -1, -1,
                               0, 0, 0, 0, 0, 0]
        let tensor = Tensor(shape: [2, 3, 2, 3], values: values)
        let first = RGBImage(tensor: tensor)
        XCTAssertEqual((0..<6).map { first.pixels[3 * $0] }, [0, 0, 128, 255, 255, 0])
        XCTAssertEqual((0..<6).map { first.pixels[3 * $0 + 1] }, [1, 128, 191, 255, 255, 128])
        let second = RGBImage(tensor: tensor, batchIndex: 1)
        XCTAssertEqual(second.color(x: 0, y: 0), RGBColor(255, 0, 128))
        let planar = RGBImage(tensor: Tensor(shape: [3, 1, 1], values: [0.2, 0.4, 0.6]), range: .zeroToOne)
        XCTAssertEqual(planar.pixels, [51, 102, 153])
    }
}
