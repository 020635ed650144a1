/// Text from input (file names, tensor names, flag values) made safe to print on a terminal:
/// control characters (ESC, CR, BEL, C1 codes, ...) are shown as escapes instead of acting on
/// the terminal, so a hostile name cannot move the cursor, retitle the window or hide a message,
/// and an error stays on one line.
extension String {
    public var terminalSafe: String {
        var out = ""
        out.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            switch scalar.value {
            case 0x09: out += "\\t"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x1B: out += "\\e"
            case 0x00..<0x20, 0x7F, 0x80..<0xA0, 0x2028, 0x2029:
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
