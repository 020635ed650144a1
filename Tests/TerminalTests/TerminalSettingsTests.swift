import Terminal
import XCTest

final class TerminalSettingsTests: XCTestCase {
    func testColourDepth() {
        XCTAssertEqual(ColorDepth.detect(environment: ["NO_COLOR": "1", "COLORTERM": "truecolor"], terminfoColors: 256), .none)
        XCTAssertEqual(ColorDepth.detect(environment: ["NO_COLOR": ""], terminfoColors: 256), .palette256, "an empty NO_COLOR does not count")
        XCTAssertEqual(ColorDepth.detect(environment: ["COLORTERM": "24bit"], terminfoColors: 8), .trueColor)
        XCTAssertEqual(ColorDepth.detect(environment: [:], terminfoColors: 256), .palette256)
        XCTAssertEqual(ColorDepth.detect(environment: [:], terminfoColors: 8), .basic8)
    }

    func testImageModeSettingFlagBeatsEnvironment() throws {
        XCTAssertEqual(try ImageModeSetting.resolve(flag: "blocks", environment: ["PHOTOVERSE_IMAGES": "sixel"]), .fixed(.blocks))
        XCTAssertEqual(try ImageModeSetting.resolve(flag: nil, environment: ["PHOTOVERSE_IMAGES": "none"]), .fixed(.none))
        XCTAssertEqual(try ImageModeSetting.resolve(flag: nil, environment: [:]), .auto)
        XCTAssertThrowsError(try ImageModeSetting.resolve(flag: "ascii", environment: [:])) { error in
            XCTAssertEqual("\(error)", "--images: unknown image mode 'ascii' (use auto, kitty, iterm, sixel, blocks or none)")
        }
    }

    func testDisplayWidth() {
        XCTAssertEqual(DisplayWidth.of("abc"), 3)
        XCTAssertEqual(DisplayWidth.of("写真"), 4)
        XCTAssertEqual(DisplayWidth.of("γσα▀"), 4)
        XCTAssertEqual(DisplayWidth.truncate("photoverse", to: 6), "photo…")
        XCTAssertEqual(DisplayWidth.truncate("写真写真", to: 5), "写真…")
        XCTAssertEqual(DisplayWidth.pad("ab", to: 4), "ab  ")
    }

    func testCellRect() {
        let a = CellRect(x: 0, y: 0, width: 4, height: 3)
        XCTAssertTrue(a.intersects(CellRect(x: 3, y: 2, width: 2, height: 2)))
        XCTAssertFalse(a.intersects(CellRect(x: 4, y: 0, width: 2, height: 2)), "touching edges do not overlap")
        XCTAssertEqual(a.inset(by: 1), CellRect(x: 1, y: 1, width: 2, height: 1))
        XCTAssertEqual(a.rows, 0..<3)
    }

    func testKeysFromCharacters() {
        XCTAssertEqual(Key.fromCharacter(13), .enter)
        XCTAssertEqual(Key.fromCharacter(10), .control("j"))
        XCTAssertEqual(Key.fromCharacter(21), .control("u"))
        XCTAssertEqual(Key.fromCharacter(127), .backspace)
        XCTAssertEqual(Key.fromCharacter(0x3B3), .character("γ"))
    }
}
