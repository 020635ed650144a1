/// CLIP's (and GPT-2's) reversible byte-to-character table, `bytes_to_unicode()`.
///
/// BPE works on characters, so every UTF-8 byte is first mapped to one printable character:
/// the 188 printable Latin-1 bytes map to themselves, the other 68 bytes (controls, space,
/// DEL, NBSP, soft hyphen, ...) to U+0100... in byte order. The vocabulary's first 256 entries
/// are these characters in `order`; the next 256 are the same with `</w>` appended.
enum ByteEncoder {
    /// The bytes in the order `bytes_to_unicode()` lists them (= base-token vocabulary order).
    static let order: [UInt8] = table.order

    /// The character that stands for each byte, indexed by byte value.
    static let scalarForByte: [Unicode.Scalar] = table.scalars

    /// The byte each table character stands for, or nil for characters outside the table.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = Int(scalar.value)
        guard v < byteForScalar.count else { return nil }
        let b = byteForScalar[v]
        return b < 0 ? nil : UInt8(b)
    }

    private static let byteForScalar: [Int16] = {
        var map = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarForByte.enumerated() {
            map[Int(scalar.value)] = Int16(byte)
        }
        return map
    }()

    private static let table: (order: [UInt8], scalars: [Unicode.Scalar]) = {
        var printable: [Int] = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var codes = printable
        let printableSet = Set(printable)
        var next = 0
        for b in 0..<256 where !printableSet.contains(b) {
            printable.append(b)
            codes.append(256 + next)
            next += 1
        }
        var scalars = [Unicode.Scalar](repeating: " ", count: 256)
        for (b, c) in zip(printable, codes) {
            scalars[b] = Unicode.Scalar(UInt32(c))!
        }
        return (printable.map { UInt8($0) }, scalars)
    }()
}
