import Formats
import Terminal
import XCTest

final class XtermPaletteTests: XCTestCase {
    func testCubeCorners() {
        XCTAssertEqual(XtermPalette.nearest256(RGBColor(255, 0, 0)), 196)
        XCTAssertEqual(XtermPalette.nearest256(RGBColor(0, 0, 255)), 21)
        XCTAssertEqual(XtermPalette.nearest256(RGBColor(0, 255, 0)), 46)
        XCTAssertEqual(XtermPalette.color(196), RGBColor(255, 0, 0))
    }

    func testGreysUseTheGreyRamp() {
        XCTAssertEqual(XtermPalette.nearest256(RGBColor(128, 128, 128)), 244)
        XCTAssertEqual(XtermPalette.color(244), RGBColor(128, 128, 128))
        XCTAssertEqual(XtermPalette.nearest256(RGBColor(28, 28, 28)), 234, "dark.theme's background")
    }

    func testEveryIndexMapsBackToItself() {
        for index in 16..<256 {
            let color = XtermPalette.color(index)
            XCTAssertEqual(XtermPalette.color(XtermPalette.nearest256(color)), color, "index \(index)")
        }
    }

    func testNearestOfEight() {
        XCTAssertEqual(XtermPalette.nearest8(RGBColor(250, 10, 10)), 1)
        XCTAssertEqual(XtermPalette.nearest8(RGBColor(10, 10, 10)), 0)
        XCTAssertEqual(XtermPalette.nearest8(RGBColor(240, 240, 240)), 7)
    }
}
