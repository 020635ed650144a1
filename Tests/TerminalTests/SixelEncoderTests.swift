import Formats
import Terminal
import XCTest

/// The sixel encoder (libsixel) checked by decoding what it writes with an independent decoder
/// (below, from the VT340 sixel format: DCS P1;P2;P3 q, raster attributes, `#n;2;r;g;b` colours
/// in percent, six-pixel columns `?`...`~`, `!n` repeats, `$` and `-`), then comparing pixels.
final class SixelEncoderTests: XCTestCase {
    /// A decoded sixel image: RGB per pixel, nil where no sixel was drawn.
    struct Decoded {
        var width = 0, height = 0
        var declaredWidth = 0, declaredHeight = 0
        var pixels: [Int: RGBColor] = [:]   // y * width + x
        func color(x: Int, y: Int) -> RGBColor? { pixels[y * max(width, 1) + x] }
    }

    struct DecodeError: Error, CustomStringConvertible { let description: String }

    static func decode(_ sequence: String) throws -> Decoded {
        let bytes = Array(sequence.utf8)
        guard bytes.count >= 4, bytes[0] == 0x1B, bytes[1] == UInt8(ascii: "P") else { throw DecodeError(description: "no DCS") }
        guard bytes[bytes.count - 2] == 0x1B, bytes[bytes.count - 1] == UInt8(ascii: "\\") else { throw DecodeError(description: "no ST") }
        var i = 2
        while i < bytes.count, bytes[i] != UInt8(ascii: "q") { i += 1 }   // P1;P2;P3 before q
        guard i < bytes.count else { throw DecodeError(description: "no q") }
        i += 1
        let end = bytes.count - 2
        func number() -> Int {
            var value = 0
            while i < end, let digit = Int(exactly: bytes[i]), (48...57).contains(digit) {
                value = value * 10 + digit - 48
                i += 1
            }
            return value
        }
        func parameters() -> [Int] {
            var values = [number()]
            while i < end, bytes[i] == UInt8(ascii: ";") {
                i += 1
                values.append(number())
            }
            return values
        }
        var decoded = Decoded()
        var palette: [Int: RGBColor] = [:]
        var drawn: [(x: Int, y: Int, color: RGBColor)] = []
        var current = 0, x = 0, band = 0
        func draw(_ sixel: UInt8, _ color: RGBColor) {
            let bits = Int(sixel) - 63
            for row in 0..<6 where bits & (1 << row) != 0 { drawn.append((x, band * 6 + row, color)) }
            x += 1
        }
        while i < end {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "\""):
                i += 1
                let raster = parameters()
                guard raster.count == 4 else { throw DecodeError(description: "raster attributes \(raster)") }
                decoded.declaredWidth = raster[2]
                decoded.declaredHeight = raster[3]
            case UInt8(ascii: "#"):
                i += 1
                let colour = parameters()
                if colour.count == 5 {
                    guard colour[1] == 2 else { throw DecodeError(description: "colour space \(colour[1]) (HLS not expected)") }
                    func channel(_ percent: Int) -> UInt8 { UInt8((Double(min(percent, 100)) * 255 / 100).rounded()) }
                    palette[colour[0]] = RGBColor(channel(colour[2]), channel(colour[3]), channel(colour[4]))
                } else if colour.count != 1 {
                    throw DecodeError(description: "colour command \(colour)")
                }
                current = colour[0]
            case UInt8(ascii: "$"):
                x = 0
                i += 1
            case UInt8(ascii: "-"):
                x = 0
                band += 1
                i += 1
            case UInt8(ascii: "!"):
                i += 1
                let count = number()
                guard i < end, (63...126).contains(bytes[i]) else { throw DecodeError(description: "repeat without a sixel") }
                guard let color = palette[current] else { throw DecodeError(description: "colour \(current) used before it is defined") }
                for _ in 0..<count { draw(bytes[i], color) }
                i += 1
            case 63...126:
                guard let color = palette[current] else { throw DecodeError(description: "colour \(current) used before it is defined") }
                draw(byte, color)
                i += 1
            case 10, 13:
                i += 1
            default:
                throw DecodeError(description: "unexpected byte \(byte) at \(i)")
            }
        }
        decoded.width = max(decoded.declaredWidth, (drawn.map(\.x).max() ?? -1) + 1)
        decoded.height = max(decoded.declaredHeight, (drawn.map(\.y).max() ?? -1) + 1)
        for pixel in drawn { decoded.pixels[pixel.y * decoded.width + pixel.x] = pixel.color }
        return decoded
    }

    struct Comparison { var worst = 0, meanAbsolute = 0.0, missing = 0 }

    /// Channel differences between the decoded image and `image`; the raster attributes must give
    /// its size, every pixel must be drawn and nothing below or right of it.
    func compare(_ decoded: Decoded, _ image: RGBImage, file: StaticString = #filePath, line: UInt = #line) -> Comparison {
        XCTAssertEqual([decoded.declaredWidth, decoded.declaredHeight], [image.width, image.height], "raster size", file: file, line: line)
        XCTAssertEqual([decoded.width, decoded.height], [image.width, image.height], "drawn area", file: file, line: line)
        var result = Comparison(), total = 0
        for y in 0..<image.height {
            for x in 0..<image.width {
                guard let got = decoded.color(x: x, y: y) else { result.missing += 1; continue }
                let want = image.color(x: x, y: y)
                for (a, b) in [(got.red, want.red), (got.green, want.green), (got.blue, want.blue)] {
                    let d = abs(Int(a) - Int(b))
                    result.worst = max(result.worst, d)
                    total += d
                }
            }
        }
        result.meanAbsolute = Double(total) / Double(max(1, 3 * image.width * image.height))
        XCTAssertEqual(result.missing, 0, "pixels never drawn", file: file, line: line)
        return result
    }

    /// Four colours in blocks, a size that is no multiple of 6 (the last band is partial): the
    /// decoded image has the same regions pixel for pixel (one palette entry per colour), each
    /// within 10 levels of its colour: libsixel's quantiser bins colours at its automatic
    /// quality (measured 7) and the palette is in percent (±1.3 levels).
    func testFewColoursComeBackInTheirPlaces() throws {
        let colors = [RGBColor(200, 30, 40), RGBColor(20, 180, 60), RGBColor(250, 250, 250), RGBColor(10, 20, 160)]
        func region(_ x: Int, _ y: Int) -> Int { (x / 5 + y / 4) % colors.count }
        var pixels: [UInt8] = []
        for y in 0..<13 { for x in 0..<17 { let c = colors[region(x, y)]; pixels += [c.red, c.green, c.blue] } }
        let image = RGBImage(width: 17, height: 13, pixels: pixels)
        let sixel = try SixelEncoder.encode(image)
        XCTAssertTrue(sixel.hasPrefix("\u{1B}P"), "starts with DCS")
        XCTAssertTrue(sixel.hasSuffix("\u{1B}\\"), "ends with ST")
        let decoded = try Self.decode(sixel)
        XCTAssertLessThanOrEqual(compare(decoded, image).worst, 10)
        var seen: [Int: RGBColor] = [:]
        for y in 0..<13 {
            for x in 0..<17 {
                guard let got = decoded.color(x: x, y: y) else { continue }
                if let first = seen[region(x, y)] {
                    XCTAssertEqual(got, first, "(\(x), \(y)) differs from the rest of its region")
                } else {
                    seen[region(x, y)] = got
                }
            }
        }
        XCTAssertEqual(Set(seen.values).count, 4, "four distinct colours")
    }

    /// A real photo (the detector's 128x128 letterboxed astronaut): the decoded picture is the
    /// photo, within what 256 colours and error diffusion leave (measured: mean 4.0 levels, PSNR
    /// 33 dB); a shifted band, a swapped channel or a wrong palette is far beyond either bar.
    func testAPhotoSurvivesTheRoundTrip() throws {
        let photo = try ImageFile.load(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/faces/astronaut_letterbox128.png"))
        let decoded = try Self.decode(try SixelEncoder.encode(photo))
        let result = compare(decoded, photo)
        XCTAssertLessThan(result.meanAbsolute, 6)
        var squared = 0.0
        for y in 0..<photo.height {
            for x in 0..<photo.width {
                guard let got = decoded.color(x: x, y: y) else { continue }
                let want = photo.color(x: x, y: y)
                for (a, b) in [(got.red, want.red), (got.green, want.green), (got.blue, want.blue)] {
                    squared += pow(Double(Int(a) - Int(b)), 2)
                }
            }
        }
        let psnr = 10 * log10(255 * 255 / (squared / Double(3 * photo.width * photo.height)))
        XCTAssertGreaterThan(psnr, 28)
        print("sixel photo round trip: mean \(result.meanAbsolute) levels, worst \(result.worst), PSNR \(psnr) dB")
    }

    /// The decoder itself, on a hand-written sequence.
    func testDecoderOnAHandWrittenSequence() throws {
        // 3 columns x 7 rows: colour 1 red fills band 0 ('~' = all six rows) for 2 columns via !2,
        // colour 2 blue draws the third column's top pixel ('@' = row 0); band 1 draws row 6 ('@').
        let decoded = try Self.decode("\u{1B}Pq\"1;1;3;7#1;2;100;0;0#2;2;0;0;100#1!2~$#2??@-#1@@@\u{1B}\\")
        XCTAssertEqual([decoded.declaredWidth, decoded.declaredHeight], [3, 7])
        XCTAssertEqual(decoded.color(x: 0, y: 0), RGBColor(255, 0, 0))
        XCTAssertEqual(decoded.color(x: 1, y: 5), RGBColor(255, 0, 0))
        XCTAssertNil(decoded.color(x: 2, y: 1))
        XCTAssertEqual(decoded.color(x: 2, y: 0), RGBColor(0, 0, 255))
        XCTAssertEqual(decoded.color(x: 2, y: 6), RGBColor(255, 0, 0))
        XCTAssertThrowsError(try Self.decode("\u{1B}Pq#1~\u{1B}\\"), "a colour used before it is defined")
    }

    func testLinkedNcursesIsWide() {
        XCTAssertTrue(CursesLibrary.version.hasPrefix("ncurses"), CursesLibrary.version)
    }
}
