/// Splits text into the lines a panel shows: at newlines, and at the last space that fits
/// (or mid-word when a word is longer than the line). Offsets count characters.
public enum TextWrapping {
    public struct Line: Equatable {
        /// Offsets of the first character and one past the last shown (a newline is not shown).
        public var start: Int
        public var end: Int
    }

    public static func lines(_ characters: [Character], width: Int) -> [Line] {
        let width = max(1, width)
        var lines: [Line] = []
        var start = 0
        while true {
            var end = start
            while end < characters.count, characters[end] != "\n", end - start < width { end += 1 }
            if end < characters.count, characters[end] != "\n", end - start == width {
                // Line full and more follows: break after the last space, when there is one.
                if let space = characters[start..<end].lastIndex(of: " "), space > start { end = space + 1 }
            }
            lines.append(Line(start: start, end: end))
            if end < characters.count, characters[end] == "\n" {
                start = end + 1
            } else if end >= characters.count {
                break
            } else {
                start = end
            }
        }
        return lines
    }

    /// The (line, column) of offset `cursor`; at a soft break the cursor goes to the next line's start.
    public static func position(of cursor: Int, in lines: [Line]) -> (line: Int, column: Int) {
        for (index, line) in lines.enumerated() {
            let isLast = index == lines.count - 1
            let nextStartsHere = !isLast && lines[index + 1].start == cursor
            if cursor >= line.start, cursor < line.end || (cursor == line.end && !nextStartsHere) || (isLast && cursor >= line.end) {
                return (index, cursor - line.start)
            }
        }
        let last = lines.count - 1
        return (last, max(0, cursor - lines[last].start))
    }
}
