import Foundation

/// Reads `merges.txt`: an optional `#version: ...` first line, then one merge per line,
/// the two symbols separated by a single space, in priority order (first = merged first).
enum MergesFile {
    struct Merge {
        let left: String
        let right: String
        /// 1-based line number, for error messages.
        let line: Int
    }

    static func load(_ url: URL) throws -> [Merge] {
        let data = try TokenizerError.readFile(url)
        var merges: [Merge] = []
        merges.reserveCapacity(50_000)
        try data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var lineNumber = 0
            var start = 0
            // Work on bytes: as Characters, "\r\n" or a space before a combining mark would be one unit.
            while start < bytes.count {
                lineNumber += 1
                var end = start
                while end < bytes.count, bytes[end] != 0x0A { end += 1 }
                let lineStart = start
                start = end + 1
                if end > lineStart, bytes[end - 1] == 0x0D { end -= 1 }
                if end == lineStart { continue }
                let line = UnsafeBufferPointer(rebasing: bytes[lineStart..<end])
                if lineNumber == 1, line.starts(with: Array("#version".utf8)) { continue }
                let spaces = line.indices.filter { line[$0] == 0x20 }
                guard spaces.count == 1, let space = spaces.first, space > 0, space < line.count - 1 else {
                    var shown = String(decoding: line.prefix(40), as: UTF8.self)
                    if line.count > 40 { shown += "..." }
                    throw TokenizerError.malformedFile(
                        url, reason: "line \(lineNumber): expected two symbols separated by one space, got \(shown.debugDescription)")
                }
                merges.append(Merge(
                    left: String(decoding: UnsafeBufferPointer(rebasing: line[..<space]), as: UTF8.self),
                    right: String(decoding: UnsafeBufferPointer(rebasing: line[(space + 1)...]), as: UTF8.self),
                    line: lineNumber))
            }
        }
        guard !merges.isEmpty else {
            throw TokenizerError.malformedFile(url, reason: "no merges found")
        }
        return merges
    }
}
