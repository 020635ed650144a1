import Formats
import Terminal
import XCTest

final class HalfBlockRendererTests: XCTestCase {
    /// 2 x 3: red over green in column 0, blue over white in column 1, then a black last row.
    let image = RGBImage(width: 2, height: 3, pixels: [
        255, 0, 0, 0, 0, 255,
        0, 255, 0, 255, 255, 255,
        0, 0, 0, 0, 0, 0,
    ])

    func testTrueColourUsesTheUpperPixelAsForegroundAndTheLowerAsBackground() {
        let out = HalfBlockRenderer.render(image, at: (x: 4, y: 2), depth: .trueColor)
        XCTAssertTrue(out.hasPrefix("\u{1B}[3;5H"), "1-based cursor position of the top left cell")
        XCTAssertTrue(out.contains("\u{1B}[38;2;255;0;0m\u{1B}[48;2;0;255;0m▀"), out)
        XCTAssertTrue(out.contains("\u{1B}[38;2;0;0;255m\u{1B}[48;2;255;255;255m▀"), out)
        XCTAssertTrue(out.contains("\u{1B}[4;5H"), "second row of cells")
        XCTAssertEqual(out.filter { $0 == "▀" }.count, 4, "2 columns x 2 rows (odd height rounds up)")
    }

    func testPaletteColoursWhereThereIsNoTrueColour() {
        let out = HalfBlockRenderer.render(image, at: (x: 0, y: 0), depth: .palette256)
        XCTAssertTrue(out.contains("\u{1B}[38;5;196m\u{1B}[48;5;46m▀"), out)
        XCTAssertFalse(out.contains("38;2;"))
    }

    func testNoColourDrawsShadesWithoutAnyColourSequence() {
        let out = HalfBlockRenderer.render(RGBImage(width: 3, height: 2, pixels: [
            0, 0, 0, 128, 128, 128, 255, 255, 255,
            0, 0, 0, 128, 128, 128, 255, 255, 255,
        ]), at: (x: 0, y: 0), depth: .none)
        XCTAssertFalse(out.contains("38;"), "no colours with NO_COLOR")
        XCTAssertTrue(out.hasSuffix(" ▒█"), out)
    }

    func testCellSizeIsHalfTheHeightRoundedUp() {
        XCTAssertTrue(HalfBlockRenderer.cellSize(of: image) == (2, 2))
    }
}
