import Foundation
import Formats
@testable import Terminal
import XCTest

/// The kitty graphics protocol, iTerm2 inline images and the probe that picks between them,
/// checked by parsing the escapes: the pixels that go out are the pixels of the image.
final class GraphicsProtocolTests: XCTestCase {
    /// A small image with a different colour in every pixel.
    func gradient(width: Int, height: Int) -> RGBImage {
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width { pixels += [UInt8(x * 255 / max(width - 1, 1)), UInt8(y * 255 / max(height - 1, 1)), UInt8((x + y) % 256)] }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Every APC graphics command in `text`: its keys and its payload.
    func commands(in text: String) -> [(keys: [String: String], payload: String)] {
        var found: [(keys: [String: String], payload: String)] = []
        var rest = Substring(text)
        while let start = rest.range(of: "\u{1B}_G") {
            guard let end = rest.range(of: "\u{1B}\\", range: start.upperBound..<rest.endIndex) else { break }
            let body = rest[start.upperBound..<end.lowerBound]
            let parts = body.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
            var keys: [String: String] = [:]
            for pair in parts[0].split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                keys[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
            }
            found.append((keys, parts.count > 1 ? String(parts[1]) : ""))
            rest = rest[end.upperBound...]
        }
        return found
    }

    func testKittyTransmitsTheExactPixelsInChunks() throws {
        let image = gradient(width: 64, height: 48)   // 9,216 bytes: 12,288 base64 characters, 3 chunks
        let escape = KittyGraphics.transmit(image, id: 7, columns: 8, rows: 3, virtual: false)
        let parsed = commands(in: escape)
        XCTAssertEqual(parsed.first?.keys["a"], "d", "the old image of this id goes first")
        let data = Array(parsed.dropFirst())
        XCTAssertEqual(data.count, 3)
        XCTAssertEqual(data[0].keys["a"], "T")
        XCTAssertEqual(data[0].keys["f"], "24")
        XCTAssertEqual(data[0].keys["s"], "64")
        XCTAssertEqual(data[0].keys["v"], "48")
        XCTAssertEqual(data[0].keys["c"], "8")
        XCTAssertEqual(data[0].keys["r"], "3")
        XCTAssertEqual(data[0].keys["q"], "2", "no replies that would arrive as keys")
        XCTAssertEqual(data.map { $0.keys["m"] }, ["1", "1", "0"])
        XCTAssertTrue(data.allSatisfy { $0.payload.count <= KittyGraphics.chunkSize })
        let decoded = try XCTUnwrap(Data(base64Encoded: data.map(\.payload).joined()))
        XCTAssertEqual(Array(decoded), image.pixels)
    }

    func testKittyInsideTmuxUsesPassthroughAndPlaceholders() throws {
        var written = ""
        let painter = ImageRegionPainter(mode: .kitty, depth: .trueColor, cellSize: PixelSize(width: 8, height: 16), insideTmux: true) {
            written += $0
        }
        let image = gradient(width: 32, height: 32)
        let box = CellRect(x: 10, y: 5, width: 20, height: 10)
        _ = painter.beginFrame(["preview": ImageRegion(box: box, image: image, version: 1, background: .black)])
        painter.endFrame()
        // The graphics escape goes through tmux's passthrough with its ESCs doubled.
        let start = try XCTUnwrap(written.range(of: "\u{1B}Ptmux;"))
        let end = try XCTUnwrap(written.range(of: "\u{1B}\\\u{1B}[", range: start.upperBound..<written.endIndex))
        let inner = String(written[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "\u{1B}\u{1B}", with: "\u{1B}")
        let transmitted = commands(in: inner).filter { $0.keys["a"] != "d" }
        XCTAssertEqual(transmitted.first?.keys["U"], "1", "a virtual placement for placeholders")
        let columns = Int(transmitted.first?.keys["c"] ?? "") ?? 0, rows = Int(transmitted.first?.keys["r"] ?? "") ?? 0
        XCTAssertEqual(columns, 20, "256 px in 8-px cells would be 32: fitted to the box")
        XCTAssertEqual(rows, 10)
        // Every cell of the placement holds a placeholder with its row and column diacritics.
        let placeholders = written.unicodeScalars.filter { $0 == KittyGraphics.placeholder }.count
        XCTAssertEqual(placeholders, columns * rows)
        let scalars = Array(written.unicodeScalars)
        let firstCell = try XCTUnwrap(scalars.firstIndex(of: KittyGraphics.placeholder))
        XCTAssertEqual(scalars[firstCell + 1], KittyGraphics.diacritics[0])
        let lastCell = try XCTUnwrap(scalars.lastIndex(of: KittyGraphics.placeholder))
        XCTAssertEqual(scalars[lastCell + 1], KittyGraphics.diacritics[rows - 1], "row")
        XCTAssertEqual(scalars[lastCell + 2], KittyGraphics.diacritics[columns - 1], "column")
        XCTAssertTrue(written.contains("\u{1B}[38;5;1m"), "the image id as the foreground colour")
    }

    func testDiacriticsAreDistinctCombiningMarks() {
        XCTAssertGreaterThanOrEqual(KittyGraphics.diacritics.count, 150, "a panel of 150 cells a side")
        XCTAssertEqual(Set(KittyGraphics.diacritics).count, KittyGraphics.diacritics.count)
        XCTAssertEqual(KittyGraphics.diacritics.prefix(3), ["\u{305}", "\u{30D}", "\u{30E}"])
        XCTAssertTrue(KittyGraphics.diacritics.allSatisfy { $0.properties.generalCategory == .nonspacingMark })
    }

    func testITermCarriesThePNGOfTheImage() throws {
        let image = gradient(width: 40, height: 30)
        let escape = try ITermInlineImage.encode(image, columns: 5, rows: 2)
        XCTAssertTrue(escape.hasPrefix("\u{1B}]1337;File=inline=1;"))
        XCTAssertTrue(escape.hasSuffix("\u{07}"))
        XCTAssertTrue(escape.contains("width=5;height=2"))
        let base64 = try XCTUnwrap(escape.split(separator: ":").last?.dropLast())
        let png = try XCTUnwrap(Data(base64Encoded: String(base64)))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("iterm-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: file) }
        try png.write(to: file)
        XCTAssertEqual(try PNGCodec.read(file), image)
        XCTAssertTrue(escape.contains("size=\(png.count)"))
    }

    func testTheProbePicksTheBestProtocol() {
        let kittyReply = Array("\u{1B}_Gi=31;OK\u{1B}\\\u{1B}P>|kitty(0.39.1)\u{1B}\\\u{1B}[?62;c".utf8)
        XCTAssertTrue(TerminalReplyParser.kittyGraphicsOK(in: kittyReply))
        XCTAssertEqual(TerminalReplyParser.terminalVersion(in: kittyReply), "kitty(0.39.1)")
        XCTAssertEqual(TerminalProbe(kittyGraphics: true).bestImageMode(environment: [:]), .kitty)
        XCTAssertEqual(TerminalProbe(terminalName: "iTerm2 3.5.0").bestImageMode(environment: [:]), .iterm)
        XCTAssertEqual(TerminalProbe(terminalName: "tmux 3.3a").bestImageMode(environment: ["LC_TERMINAL": "iTerm2"]), .iterm,
                       "iTerm2 behind tmux or ssh says so in LC_TERMINAL")
        XCTAssertEqual(TerminalProbe(attributes: [62, 4, 22]).bestImageMode(environment: [:]), .sixel)
        XCTAssertEqual(TerminalProbe(attributes: [62, 22]).bestImageMode(environment: [:]), .blocks)
        let xtermReply = Array("\u{1B}P>|XTerm(379)\u{1B}\\\u{1B}[?63;1;4c".utf8)
        XCTAssertFalse(TerminalReplyParser.kittyGraphicsOK(in: xtermReply))
        XCTAssertEqual(TerminalReplyParser.terminalVersion(in: xtermReply), "XTerm(379)")
        XCTAssertEqual(try ImageModeSetting(parsing: "kitty", source: "--images"), .fixed(.kitty))
        XCTAssertEqual(try ImageModeSetting(parsing: "iterm", source: "--images"), .fixed(.iterm))
    }
}
