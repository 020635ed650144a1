/// A multi-line text field: insert and delete at a cursor, move by character, word, visual
/// line (up/down keep the column) and line ends. Pure state: the view wraps it to a width.
public struct TextEditor: Equatable, Sendable {
    public private(set) var characters: [Character]
    /// Offset in `characters`, 0...count.
    public private(set) var cursor: Int

    public init(_ text: String = "") {
        characters = Array(text)
        cursor = characters.count
    }

    public var text: String { String(characters) }

    public mutating func setText(_ text: String) {
        characters = Array(text)
        cursor = characters.count
    }

    public mutating func insert(_ character: Character) {
        characters.insert(character, at: cursor)
        cursor += 1
    }

    public mutating func insert(_ text: String) {
        for character in text { insert(character) }
    }

    public mutating func deleteBackward() {
        guard cursor > 0 else { return }
        cursor -= 1
        characters.remove(at: cursor)
    }

    public mutating func deleteForward() {
        guard cursor < characters.count else { return }
        characters.remove(at: cursor)
    }

    /// Ctrl-W: the word before the cursor (and the spaces after it).
    public mutating func deleteWordBackward() {
        let target = wordStart(before: cursor)
        characters.removeSubrange(target..<cursor)
        cursor = target
    }

    /// Ctrl-U: everything before the cursor on its line.
    public mutating func deleteToLineStart() {
        var start = cursor
        while start > 0, characters[start - 1] != "\n" { start -= 1 }
        characters.removeSubrange(start..<cursor)
        cursor = start
    }

    /// Ctrl-K: everything after the cursor on its line.
    public mutating func deleteToLineEnd() {
        var end = cursor
        while end < characters.count, characters[end] != "\n" { end += 1 }
        characters.removeSubrange(cursor..<end)
    }

    public mutating func moveLeft() { cursor = max(0, cursor - 1) }
    public mutating func moveRight() { cursor = min(characters.count, cursor + 1) }
    public mutating func moveWordLeft() { cursor = wordStart(before: cursor) }

    public mutating func moveWordRight() {
        var index = cursor
        while index < characters.count, characters[index].isWhitespace { index += 1 }
        while index < characters.count, !characters[index].isWhitespace { index += 1 }
        cursor = index
    }

    private func wordStart(before offset: Int) -> Int {
        var index = offset
        while index > 0, characters[index - 1].isWhitespace { index -= 1 }
        while index > 0, !characters[index - 1].isWhitespace { index -= 1 }
        return index
    }

    public func lines(width: Int) -> [TextWrapping.Line] { TextWrapping.lines(characters, width: width) }

    public func cursorPosition(width: Int) -> (line: Int, column: Int) {
        TextWrapping.position(of: cursor, in: lines(width: width))
    }

    public mutating func moveToLineStart(width: Int) {
        let lines = self.lines(width: width)
        cursor = lines[cursorPosition(width: width).line].start
    }

    public mutating func moveToLineEnd(width: Int) {
        let lines = self.lines(width: width)
        cursor = lastCursor(of: cursorPosition(width: width).line, in: lines)
    }

    /// The last offset that still shows on visual line `index`: at a soft break the line's end
    /// is the next line's start, so the cursor stops one before it (on the breaking space).
    private func lastCursor(of index: Int, in lines: [TextWrapping.Line]) -> Int {
        let line = lines[index]
        let softBreak = index + 1 < lines.count && lines[index + 1].start == line.end
        return softBreak && line.end > line.start ? line.end - 1 : line.end
    }

    /// Moves one visual line up (-1) or down (+1) keeping the column; false at the first/last line
    /// (the caller then walks the history instead).
    @discardableResult
    public mutating func moveVertically(_ direction: Int, width: Int) -> Bool {
        let lines = self.lines(width: width)
        let (line, column) = cursorPosition(width: width)
        let target = line + direction
        guard lines.indices.contains(target) else { return false }
        cursor = min(lines[target].start + column, lastCursor(of: target, in: lines))
        return true
    }

    public mutating func moveToStart() { cursor = 0 }
    public mutating func moveToEnd() { cursor = characters.count }
}
