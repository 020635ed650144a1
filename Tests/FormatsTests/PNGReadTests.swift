import Foundation
import TestSupport
import XCTest
@testable import Formats

/// The fixtures come from training/fixtures/make_format_fixtures.py; the expected values
/// here are the ones written there.
final class PNGReadTests: XCTestCase {
    static let rgb3x2: [RGBColor] = [RGBColor(255, 0, 0), RGBColor(0, 255, 0), RGBColor(0, 0, 255),
                                     RGBColor(255, 255, 255), RGBColor(0, 0, 0), RGBColor(10, 20, 30)]
    static let alpha3x2: [UInt8] = [255, 128, 0, 255, 64, 255]
    static let gray3x2: [UInt8] = [0, 50, 100, 150, 200, 255]

    private func read(_ name: String) throws -> RGBImage {
        try PNGCodec.read(Fixtures.url("formats/\(name)"))
    }

    private func colors(_ image: RGBImage) -> [RGBColor] {
        (0..<image.height).flatMap { y in (0..<image.width).map { x in image.color(x: x, y: y) } }
    }

    func testRGB8() throws {
        let image = try read("rgb8.png")
        XCTAssertEqual(image.width, 3)
        XCTAssertEqual(image.height, 2)
        XCTAssertNil(image.alpha)
        XCTAssertEqual(image.pixels, [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 10, 20, 30])
    }

    func testRGBA8KeepsAlphaAndFlattensOnWhite() throws {
        let image = try read("rgba8.png")
        XCTAssertEqual(colors(image), Self.rgb3x2)
        XCTAssertEqual(image.alpha, Self.alpha3x2)
        let flat = image.flattened()
        XCTAssertNil(flat.alpha)
        XCTAssertEqual(flat.color(x: 0, y: 0), RGBColor(255, 0, 0))   // opaque
        XCTAssertEqual(flat.color(x: 1, y: 0), RGBColor(127, 255, 127)) // green at 128/255 over white
        XCTAssertEqual(flat.color(x: 2, y: 0), .white)                  // transparent
        XCTAssertEqual(flat.color(x: 1, y: 1), RGBColor(191, 191, 191)) // black at 64/255 over white
        XCTAssertEqual(image.flattened(onto: .black).color(x: 1, y: 0), RGBColor(0, 128, 0))
    }

    func testGray8AndGrayAlpha8() throws {
        let gray = try read("gray8.png")
        XCTAssertEqual(colors(gray), Self.gray3x2.map { RGBColor($0, $0, $0) })
        XCTAssertNil(gray.alpha)
        let grayAlpha = try read("gray_alpha8.png")
        XCTAssertEqual(colors(grayAlpha), Self.gray3x2.map { RGBColor($0, $0, $0) })
        XCTAssertEqual(grayAlpha.alpha, Self.alpha3x2)
    }

    func testSixteenBitIsScaledWithRounding() throws {
        // 0x12FF -> 18.92 -> 19 (dropping the low byte would give 18); 0x8080 -> 128; 257 * 7 -> 7; 0x00FF -> 1.
        let gray = try read("gray16.png")
        XCTAssertEqual(colors(gray).map(\.red), [0, 19, 128, 255, 7, 1])
        let rgb = try read("rgb16.png")
        XCTAssertEqual(colors(rgb), [RGBColor(255, 0, 19), RGBColor(0, 255, 0), RGBColor(128, 64, 255),
                                     RGBColor(10, 20, 30), RGBColor(0, 0, 0), RGBColor(255, 255, 255)])
    }

    func testLowBitDepthGrayExpands() throws {
        let image = try read("gray4.png")
        XCTAssertEqual(colors(image).map(\.green), [0, 5, 10, 15, 1, 8].map { UInt8($0 * 17) })
    }

    func testPalette() throws {
        let palette: [RGBColor] = [RGBColor(255, 0, 0), RGBColor(0, 255, 0), RGBColor(0, 0, 255), RGBColor(255, 255, 0)]
        let indices = [0, 1, 2, 3, 2, 1]
        let plain = try read("palette8.png")
        XCTAssertEqual(colors(plain), indices.map { palette[$0] })
        XCTAssertNil(plain.alpha)
        let transparent = try read("palette2_trns.png")
        XCTAssertEqual(colors(transparent), indices.map { palette[$0] })
        let trns: [UInt8] = [255, 0, 128, 255]  // the 4th entry has no tRNS value: opaque
        XCTAssertEqual(transparent.alpha, indices.map { trns[$0] })
    }

    func testAdam7Interlaced() throws {
        let image = try read("rgb8_adam7.png")
        XCTAssertEqual(image.width, 9)
        XCTAssertEqual(image.height, 9)
        for y in 0..<9 {
            for x in 0..<9 {
                XCTAssertEqual(image.color(x: x, y: y), RGBColor(UInt8(x * 28), UInt8(y * 28), UInt8((x + y) * 14)), "(\(x), \(y))")
            }
        }
    }

    func testTruncatedPNGIsReportedAsTruncated() throws {
        let bytes = try fixtureBytes("rgb8_adam7.png")
        for cut in [20, 40, bytes.count - 30, bytes.count - 5] {
            assertFormatError(.truncated, fileName: "cut.png", mentions: ["truncated PNG"]) {
                try PNGCodec.decode(Data(bytes.prefix(cut)), file: "/tmp/cut.png")
            }
        }
    }

    func testWrongSignatureAndCorruptChunk() throws {
        assertFormatError(.wrongMagic, fileName: "photo.png", mentions: ["not a PNG"]) {
            try PNGCodec.decode(Data(try fixtureBytes("baseline.jpg")), file: "photo.png")
        }
        var bytes = try fixtureBytes("rgb8.png")
        let idat = pngChunks(bytes).first { $0.type == "IDAT" }!
        bytes[idat.offset + 8 + idat.length] ^= 0xFF  // the CRC no longer matches the data
        assertFormatError(.corruptData, fileName: "bad-crc.png", mentions: ["invalid PNG data", "CRC"]) {
            try PNGCodec.decode(Data(bytes), file: "bad-crc.png")
        }
    }

    func testHugeDimensionsRefusedFromHeaderAlone() throws {
        // A valid 100000x1000 IHDR with no image data: the refusal must come from the header.
        let ihdr = bigEndianBytes(100_000) + bigEndianBytes(1000) + [8, 2, 0, 0, 0]
        let bytes = PNGCodec.signature + pngChunk("IHDR", ihdr) + pngChunk("IEND", [])
        assertFormatError(.imageTooLarge, fileName: "huge.png", mentions: ["100000x1000", "100.0 megapixels", "64 megapixel limit"]) {
            try PNGCodec.decode(Data(bytes), file: "huge.png")
        }
        assertFormatError(.imageTooLarge, fileName: "huge.png", mentions: ["100000x1000"]) {
            try PNGCodec.text(Data(bytes), file: "huge.png")
        }
        // And a caller may lower the limit.
        assertFormatError(.imageTooLarge, fileName: "small.png", mentions: ["3x2", "limit"]) {
            try PNGCodec.decode(Data(try fixtureBytes("rgb8.png")), file: "small.png", maxPixels: 5)
        }
    }
}
