import Formats
import Terminal
import XCTest

final class SixelEncoderTests: XCTestCase {
    func testEncodesAnImageAsOneSixelSequence() throws {
        var pixels: [UInt8] = []
        for y in 0..<12 { for x in 0..<16 { pixels += [UInt8(x * 16), UInt8(y * 20), 200] } }
        let sixel = try SixelEncoder.encode(RGBImage(width: 16, height: 12, pixels: pixels))
        XCTAssertTrue(sixel.hasPrefix("\u{1B}P"), "starts with DCS")
        XCTAssertTrue(sixel.hasSuffix("\u{1B}\\"), "ends with ST")
        XCTAssertTrue(sixel.contains("\"1;1;16;12"), "raster attributes give the size: \(sixel.prefix(40))")
        XCTAssertTrue(sixel.contains("#0;2;"), "defines a palette")
    }

    func testLinkedNcursesIsWide() {
        XCTAssertTrue(CursesLibrary.version.hasPrefix("ncurses"), CursesLibrary.version)
    }
}
