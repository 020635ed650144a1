/// Parses what a terminal answers to the capability queries the UI sends.
public enum TerminalReplyParser {
    /// DA1 (primary device attributes), the answer to `ESC [ c`: `ESC [ ? 62 ; 4 ; 22 c`.
    /// Returns the attribute numbers; attribute 4 means the terminal draws sixel graphics.
    public static func deviceAttributes(in bytes: [UInt8]) -> [Int]? {
        guard let parameters = controlSequence(in: bytes, private: true, final: UInt8(ascii: "c")) else { return nil }
        return parameters
    }

    /// XTWINOPS 16, the answer to `ESC [ 16 t`: `ESC [ 6 ; height ; width t`, the cell size in pixels.
    public static func cellSize(in bytes: [UInt8]) -> PixelSize? {
        guard let parameters = controlSequence(in: bytes, private: false, final: UInt8(ascii: "t")),
              parameters.count == 3, parameters[0] == 6, parameters[1] > 0, parameters[2] > 0 else { return nil }
        return PixelSize(width: parameters[2], height: parameters[1])
    }

    /// Whether the terminal answered the kitty graphics query (`ESC _G i=31 ; OK ESC \`).
    public static func kittyGraphicsOK(in bytes: [UInt8]) -> Bool {
        String(decoding: bytes, as: UTF8.self).contains("\u{1B}_Gi=31;OK")
    }

    /// XTVERSION's answer to `ESC [ > 0 q`: `ESC P > | name version ESC \`, the terminal's name.
    public static func terminalVersion(in bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let start = text.range(of: "\u{1B}P>|"), let end = text.range(of: "\u{1B}\\", range: start.upperBound..<text.endIndex)
        else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }

    /// The numeric parameters of the first `ESC [ [?] n ; n ... final` sequence in `bytes`.
    static func controlSequence(in bytes: [UInt8], private isPrivate: Bool, final: UInt8) -> [Int]? {
        var index = 0
        while index + 1 < bytes.count {
            defer { index += 1 }
            guard bytes[index] == 0x1B, bytes[index + 1] == UInt8(ascii: "[") else { continue }
            var cursor = index + 2
            let hasQuestionMark = cursor < bytes.count && bytes[cursor] == UInt8(ascii: "?")
            guard hasQuestionMark == isPrivate else { continue }
            if hasQuestionMark { cursor += 1 }
            var parameters: [Int] = [], current: Int?
            while cursor < bytes.count {
                let byte = bytes[cursor]
                if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    current = (current ?? 0) * 10 + Int(byte - UInt8(ascii: "0"))
                } else if byte == UInt8(ascii: ";") {
                    parameters.append(current ?? 0)
                    current = nil
                } else if byte == final {
                    if let current { parameters.append(current) }
                    return parameters
                } else {
                    break
                }
                cursor += 1
            }
        }
        return nil
    }
}
