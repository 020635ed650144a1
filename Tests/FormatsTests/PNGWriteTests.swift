import Foundation
import TestSupport
import XCTest
@testable import Formats

final class PNGWriteTests: XCTestCase {
    private var directory: URL!

    override func setUp() {
        directory = Fixtures.temporaryDirectory()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    private let picture = RGBImage(width: 3, height: 2,
                                   pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 10, 20, 30])

    func testWriteAndReadBackPixelsAndText() throws {
        let url = directory.appendingPathComponent("out.png")
        let text = ["parameters": "a photo of sks person, steps: 20, cfg: 7.5, café",
                    "Software": "PhotoVerse",
                    "prompt-unicode": "日本の猫 🐱"]
        try PNGCodec.write(picture, text: text, to: url)
        XCTAssertEqual(try PNGCodec.read(url), picture)
        XCTAssertEqual(try ImageFile.load(url), picture)
        XCTAssertEqual(try PNGCodec.readText(url), text)

        // Latin-1 values travel as tEXt, others as iTXt.
        let chunks = pngChunks(try [UInt8](Data(contentsOf: url))).map(\.type)
        XCTAssertEqual(chunks.filter { $0 == "tEXt" }.count, 2)
        XCTAssertEqual(chunks.filter { $0 == "iTXt" }.count, 1)
        XCTAssertLessThan(chunks.firstIndex(of: "tEXt")!, chunks.firstIndex(of: "IDAT")!, "text before the image data")
    }

    func testRGBAIsWrittenWithAlpha() throws {
        var image = picture
        image.alpha = [255, 128, 0, 255, 64, 1]
        let data = try PNGCodec.encode(image)
        XCTAssertEqual(try PNGCodec.decode(data), image)
    }

    func testReadsTextWrittenByPillow() throws {
        let text = try PNGCodec.readText(Fixtures.url("formats/text.png"))
        XCTAssertEqual(text["parameters"], "a photo of a cat, steps: 20, café")  // tEXt, Latin-1
        XCTAssertEqual(text["comment"], String(repeating: "compressed ", count: 20))  // zTXt
        XCTAssertEqual(text["title"], "日本の猫 🐱")  // iTXt
        XCTAssertEqual(try PNGCodec.read(Fixtures.url("formats/text.png")).color(x: 1, y: 1), RGBColor(9, 99, 199))
        XCTAssertEqual(try PNGCodec.readText(Fixtures.url("formats/rgb8.png")), [:])
    }

    func testNeverOverwritesUnlessAsked() throws {
        let url = directory.appendingPathComponent("keep.png")
        try PNGCodec.write(picture, text: ["n": "1"], to: url)
        assertFormatError(.alreadyExists, fileName: "keep.png", mentions: ["exists already"]) {
            try PNGCodec.write(RGBImage(width: 1, height: 1, color: .black), to: url)
        }
        XCTAssertEqual(try PNGCodec.readText(url), ["n": "1"])
        try PNGCodec.write(RGBImage(width: 1, height: 1, color: .black), to: url, overwrite: true)
        XCTAssertEqual(try PNGCodec.read(url).width, 1)
    }

    func testNumberedNamesSkipExistingFiles() throws {
        let first = try PNGCodec.writeNumbered(picture, text: ["i": "1"], in: directory, prefix: "photoverse")
        XCTAssertEqual(first.lastPathComponent, "photoverse-0001.png")
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("photoverse-0002.png").path, contents: Data())
        let third = try PNGCodec.writeNumbered(picture, text: ["i": "3"], in: directory, prefix: "photoverse")
        XCTAssertEqual(third.lastPathComponent, "photoverse-0003.png")
        XCTAssertEqual(try PNGCodec.readText(first), ["i": "1"])
        XCTAssertEqual(try PNGCodec.readText(third), ["i": "3"])
        XCTAssertEqual(AtomicFileWriter.firstAvailableURL(in: directory, prefix: "photoverse", pathExtension: "png").lastPathComponent,
                       "photoverse-0004.png")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        XCTAssertEqual(names, ["photoverse-0001.png", "photoverse-0002.png", "photoverse-0003.png"])
    }

    func testInvalidKeywordsAndValuesAreRefused() {
        for key in ["", " lead", "trail ", "dou  ble", String(repeating: "k", count: 80), "snow☃"] {
            assertFormatError(.invalidInput, fileName: "x.png", mentions: ["keyword"]) {
                try PNGCodec.write(picture, text: [key: "v"], to: directory.appendingPathComponent("x.png"))
            }
        }
        assertFormatError(.invalidInput, fileName: "x.png", mentions: ["NUL"]) {
            try PNGCodec.write(picture, text: ["k": "a\0b"], to: directory.appendingPathComponent("x.png"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("x.png").path))
    }

    func testWritingIntoMissingFolderNamesTheFile() {
        let url = directory.appendingPathComponent("missing/out.png")
        assertFormatError(.writeFailed, fileName: "out.png", mentions: ["No such file"]) {
            try PNGCodec.write(picture, to: url)
        }
    }
}
