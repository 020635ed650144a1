import Terminal
import XCTest

final class TerminalReplyParserTests: XCTestCase {
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func testDeviceAttributesWithSixel() {
        let attributes = TerminalReplyParser.deviceAttributes(in: bytes("\u{1B}[?63;1;2;4;6;9;15;22c"))
        XCTAssertEqual(attributes, [63, 1, 2, 4, 6, 9, 15, 22])
        XCTAssertTrue(TerminalProbe(attributes: attributes!).supportsSixel)
    }

    func testDeviceAttributesWithoutSixel() {
        let attributes = TerminalReplyParser.deviceAttributes(in: bytes("\u{1B}[?1;2c"))
        XCTAssertEqual(attributes, [1, 2])
        XCTAssertFalse(TerminalProbe(attributes: attributes!).supportsSixel)
    }

    func testFindsTheReplyAfterOtherRepliesAndKeys() {
        let reply = bytes("x\u{1B}[6;20;10t\u{1B}[?62;4c")
        XCTAssertEqual(TerminalReplyParser.deviceAttributes(in: reply), [62, 4])
        XCTAssertEqual(TerminalReplyParser.cellSize(in: reply), PixelSize(width: 10, height: 20))
    }

    func testIncompleteOrMissingReplies() {
        XCTAssertNil(TerminalReplyParser.deviceAttributes(in: bytes("\u{1B}[?62;4")), "not finished yet")
        XCTAssertNil(TerminalReplyParser.deviceAttributes(in: []))
        XCTAssertNil(TerminalReplyParser.cellSize(in: bytes("\u{1B}[4;600;800t")), "that is the window size, not the cell's")
    }
}
