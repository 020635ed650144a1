/// The Windows-1252 reading of bytes 0x80-0x9F, as web browsers (and so `html.unescape` and
/// ftfy's "sloppy-windows-1252") apply it; the five undefined bytes stay as C1 controls.
enum Windows1252 {
    static func scalar(for byte: UInt8) -> Unicode.Scalar {
        guard (0x80...0x9F).contains(byte) else { return Unicode.Scalar(byte) }
        return Unicode.Scalar(table[Int(byte) - 0x80])!
    }

    private static let table: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]
}
