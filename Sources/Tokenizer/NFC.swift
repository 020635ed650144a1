import Foundation

/// Unicode canonical composition (NFC), through Foundation.
enum NFC {
    static func normalize(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        // Nothing below U+0300 changes under NFC, and nothing composes with it from below.
        guard scalars.contains(where: { $0.value >= 0x300 }) else { return scalars }
        let string = String(scalars: scalars)
        return Array(string.precomposedStringWithCanonicalMapping.unicodeScalars)
    }
}
