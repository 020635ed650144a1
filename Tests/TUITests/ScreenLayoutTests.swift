import Terminal
@testable import TUI
import XCTest

final class ScreenLayoutTests: XCTestCase {
    func testTooSmallGivesNoLayout() {
        XCTAssertNil(ScreenLayout.compute(columns: 79, rows: 40))
        XCTAssertNil(ScreenLayout.compute(columns: 200, rows: 23))
        XCTAssertNotNil(ScreenLayout.compute(columns: 80, rows: 24))
    }

    /// At every size the panels tile the screen exactly: inside it, no overlaps, no holes.
    func testPanelsTileTheScreen() throws {
        for (columns, rows) in [(80, 24), (100, 32), (120, 40), (81, 25), (250, 70), (80, 100), (300, 24)] {
            let layout = try XCTUnwrap(ScreenLayout.compute(columns: columns, rows: rows))
            let all = layout.all
            let screen = CellRect(x: 0, y: 0, width: columns, height: rows)
            for rect in all { XCTAssertTrue(screen.contains(rect) && !rect.isEmpty, "\(rect) at \(columns)x\(rows)") }
            for i in all.indices { for j in all.indices where i < j {
                XCTAssertFalse(all[i].intersects(all[j]), "\(all[i]) overlaps \(all[j]) at \(columns)x\(rows)")
            } }
            XCTAssertEqual(all.reduce(0) { $0 + $1.width * $1.height }, columns * rows, "holes at \(columns)x\(rows)")
        }
    }

    func testEveryPanelHasRoomForItsContent() throws {
        let small = try XCTUnwrap(ScreenLayout.compute(columns: 80, rows: 24))
        XCTAssertGreaterThanOrEqual(small.reference.height, 6, "image, path and summary")
        XCTAssertGreaterThanOrEqual(small.prompt.height, 6, "prompt lines and the negative prompt")
        XCTAssertGreaterThanOrEqual(small.parameters.height, 6)
        XCTAssertGreaterThanOrEqual(small.gallery.height, 5, "thumbnails and a line about the selection")
        XCTAssertGreaterThan(small.preview.width, small.reference.width, "the preview gets the most room")
        let big = try XCTUnwrap(ScreenLayout.compute(columns: 120, rows: 40))
        XCTAssertGreaterThanOrEqual(big.parameters.height - 2, ParameterField.allCases.count, "every knob visible without scrolling")
    }
}
