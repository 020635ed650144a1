import Formats
import Terminal
import XCTest

/// The painter's bookkeeping: what is written when, and which rows ncurses must rewrite.
final class ImageRegionPainterTests: XCTestCase {
    var written: [String] = []

    func painter(_ mode: ImageMode) -> ImageRegionPainter {
        ImageRegionPainter(mode: mode, depth: .trueColor, cellSize: PixelSize(width: 10, height: 20)) { self.written.append($0) }
    }

    let red = RGBImage(width: 4, height: 4, color: RGBColor(255, 0, 0))

    func testPaintsOnceAndAgainOnlyWhenTheImageChanges() {
        let p = painter(.blocks)
        let box = CellRect(x: 2, y: 1, width: 4, height: 2)
        XCTAssertEqual(p.beginFrame(["a": ImageRegion(box: box, image: red, version: 1)]), [])
        XCTAssertTrue(written.isEmpty, "nothing before the ncurses refresh in blocks mode")
        p.endFrame()
        XCTAssertEqual(written.count, 1)
        XCTAssertTrue(written[0].hasPrefix("\u{1B}7") && written[0].hasSuffix("\u{1B}8"), "cursor saved and restored")
        _ = p.beginFrame(["a": ImageRegion(box: box, image: red, version: 1)])
        p.endFrame()
        XCTAssertEqual(written.count, 1, "same version: no repaint")
        _ = p.beginFrame(["a": ImageRegion(box: box, image: red, version: 2)])
        p.endFrame()
        XCTAssertEqual(written.count, 2, "new pixels: repaint")
    }

    func testMovedOrRemovedImagesLeaveRowsForNcursesToRewrite() {
        let p = painter(.blocks)
        _ = p.beginFrame(["a": ImageRegion(box: CellRect(x: 0, y: 5, width: 4, height: 2), image: red, version: 1),
                          "b": ImageRegion(box: CellRect(x: 10, y: 6, width: 4, height: 2), image: red, version: 1)])
        p.endFrame()
        written = []
        let stale = p.beginFrame(["b": ImageRegion(box: CellRect(x: 10, y: 6, width: 4, height: 2), image: red, version: 1)])
        XCTAssertEqual(stale, [5..<7], "a's rows")
        p.endFrame()
        XCTAssertEqual(written.count, 1, "b shares a rewritten row, so it is painted again")
    }

    func testInvalidateAllRepaintsEverything() {
        let p = painter(.blocks)
        _ = p.beginFrame(["a": ImageRegion(box: CellRect(x: 0, y: 0, width: 4, height: 2), image: red, version: 1)])
        p.endFrame()
        p.invalidateAll()
        _ = p.beginFrame(["a": ImageRegion(box: CellRect(x: 0, y: 0, width: 4, height: 2), image: red, version: 1)])
        p.endFrame()
        XCTAssertEqual(written.count, 2)
    }

    func testSixelErasesStalePixelsBeforeTheRefreshAndDrawsAfter() {
        let p = painter(.sixel)
        let box = CellRect(x: 1, y: 1, width: 6, height: 3)
        _ = p.beginFrame(["a": ImageRegion(box: box, image: red, version: 1, background: RGBColor(28, 28, 28))])
        p.endFrame()
        XCTAssertEqual(written.count, 1)
        XCTAssertTrue(written[0].contains("\u{1B}P"), "a sixel (DCS) sequence")
        let stale = p.beginFrame([:])
        XCTAssertEqual(written.count, 2, "the old area is painted over with the background at once")
        XCTAssertTrue(written[1].contains("\u{1B}P"))
        XCTAssertFalse(stale.isEmpty)
    }

    func testPlacementCentresAndFits() {
        let p = painter(.blocks)
        let cells = p.placement(of: RGBImage(width: 64, height: 64, color: .white), in: CellRect(x: 10, y: 5, width: 40, height: 10)).cells
        XCTAssertEqual(cells, CellRect(x: 20, y: 5, width: 20, height: 10), "square: 20 columns x 10 rows of half-blocks")
        let sixel = painter(.sixel).placement(of: RGBImage(width: 64, height: 64, color: .white), in: CellRect(x: 0, y: 0, width: 40, height: 10))
        XCTAssertEqual(sixel.pixels.height % 6, 0, "whole sixel bands")
        XCTAssertLessThanOrEqual(sixel.cells.height, 10)
    }

    func testNoImagesModeWritesNothing() {
        let p = painter(.none)
        XCTAssertEqual(p.beginFrame(["a": ImageRegion(box: CellRect(x: 0, y: 0, width: 4, height: 2), image: red, version: 1)]), [])
        p.endFrame()
        XCTAssertTrue(written.isEmpty)
    }
}
