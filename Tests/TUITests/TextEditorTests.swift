@testable import TUI
import XCTest

final class TextEditorTests: XCTestCase {
    func testInsertDeleteAndMoveByCharacterAndWord() {
        var e = TextEditor("a photo of")
        e.insert(" S*")
        XCTAssertEqual(e.text, "a photo of S*")
        e.moveWordLeft()
        e.moveWordLeft()
        XCTAssertEqual(e.cursor, 8, "before 'of'")
        e.deleteBackward()
        XCTAssertEqual(e.text, "a photoof S*")
        e.moveWordRight()
        XCTAssertEqual(e.cursor, 9)
        e.deleteWordBackward()
        XCTAssertEqual(e.text, "a  S*")
        e.moveToEnd()
        e.deleteForward()
        XCTAssertEqual(e.text, "a  S*", "nothing after the end")
    }

    func testLineDeletions() {
        var e = TextEditor("first line\nsecond line")
        e.deleteToLineStart()
        XCTAssertEqual(e.text, "first line\n")
        e.insert("x")
        e.moveLeft()
        e.deleteToLineEnd()
        XCTAssertEqual(e.text, "first line\n")
    }

    func testWrapsAtSpacesAndNewlines() {
        let lines = TextWrapping.lines(Array("a photo of S* as an astronaut\non the moon"), width: 12)
        let texts = lines.map { String(Array("a photo of S* as an astronaut\non the moon")[$0.start..<$0.end]) }
        XCTAssertEqual(texts, ["a photo of ", "S* as an ", "astronaut", "on the moon"])
        XCTAssertEqual(TextWrapping.lines(Array("abcdefgh"), width: 3).count, 3, "a long word is cut")
        XCTAssertEqual(TextWrapping.lines([], width: 5), [TextWrapping.Line(start: 0, end: 0)])
    }

    func testUpAndDownKeepTheColumnAndStopAtTheEnds() {
        var e = TextEditor("a photo of S* as an astronaut")   // width 12: "a photo of " / "S* as an " / "astronaut"
        XCTAssertTrue(e.cursorPosition(width: 12) == (2, 9))
        XCTAssertTrue(e.moveVertically(-1, width: 12))
        XCTAssertTrue(e.cursorPosition(width: 12) == (1, 8), "line 1 is only 9 long: its last position")
        XCTAssertTrue(e.moveVertically(-1, width: 12))
        XCTAssertFalse(e.moveVertically(-1, width: 12), "first line: the history takes over")
        e.moveToLineEnd(width: 12)
        XCTAssertEqual(e.cursor, 10, "on the breaking space: the end of a wrapped line stays on it")
        XCTAssertTrue(e.cursorPosition(width: 12) == (0, 10))
        XCTAssertTrue(e.moveVertically(1, width: 12))
        XCTAssertEqual(e.cursor, 19, "column 10 is past 'S* as an ', so its last position")
        e.moveToLineStart(width: 12)
        XCTAssertEqual(e.cursor, 11)
    }

    func testHistoryWalksBackAndRestoresTheDraft() {
        var h = PromptHistory()
        h.record("one")
        h.record("two")
        h.record("two")
        h.record("  ")
        XCTAssertEqual(h.entries, ["one", "two"], "no repeats, no blanks")
        XCTAssertEqual(h.previous(current: "draft"), "two")
        XCTAssertEqual(h.previous(current: "ignored"), "one")
        XCTAssertNil(h.previous(current: ""), "oldest reached")
        XCTAssertEqual(h.next(), "two")
        XCTAssertEqual(h.next(), "draft")
        XCTAssertNil(h.next())
    }

    func testHistoryKeepsItsCapacity() {
        var h = PromptHistory(capacity: 3)
        for i in 0..<5 { h.record("p\(i)") }
        XCTAssertEqual(h.entries, ["p2", "p3", "p4"])
    }
}
