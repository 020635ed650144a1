import Foundation
import Formats

/// The kitty graphics protocol (kitty, WezTerm, Ghostty, Konsole): images sent as base64 RGB in
/// APC escapes, chunked at 4096 bytes. Directly on the terminal an image is placed at the
/// cursor over `columns` x `rows` cells; inside tmux (which does not know the protocol) the image
/// is sent through tmux's passthrough as a virtual placement, and the cells are filled with
/// Unicode placeholders (U+10EEEE, the row and column as combining diacritics, the image id as
/// the foreground colour), which tmux keeps, moves and clears like any text.
public enum KittyGraphics {
    static let chunkSize = 4096
    public static let placeholder: Unicode.Scalar = "\u{10EEEE}"

    /// Row and column numbers as kitty's combining diacritics (the start of its
    /// rowcolumn-diacritics table, written as ranges): enough for panels up to `maxCells` cells.
    static let diacritics: [Unicode.Scalar] = {
        let ranges: [ClosedRange<UInt32>] = [
            0x305...0x305, 0x30D...0x30E, 0x310...0x310, 0x312...0x312, 0x33D...0x33F, 0x346...0x346,
            0x34A...0x34C, 0x350...0x352, 0x357...0x357, 0x35B...0x35B, 0x363...0x36F, 0x483...0x487,
            0x592...0x595, 0x597...0x599, 0x59C...0x5A1, 0x5A8...0x5A9, 0x5AB...0x5AC, 0x5AF...0x5AF,
            0x5C4...0x5C4, 0x610...0x617, 0x657...0x65B, 0x65D...0x65E, 0x6D6...0x6DC, 0x6DF...0x6E2,
            0x6E4...0x6E4, 0x6E7...0x6E8, 0x6EB...0x6EC, 0x730...0x730, 0x732...0x733, 0x735...0x736,
            0x73A...0x73A, 0x73D...0x73D, 0x73F...0x741, 0x743...0x743, 0x745...0x745, 0x747...0x747,
            0x749...0x74A, 0x7EB...0x7F1, 0x7F3...0x7F3, 0x816...0x819, 0x81B...0x823, 0x825...0x827,
            0x829...0x82D, 0x951...0x951, 0x953...0x954, 0xF82...0xF83, 0xF86...0xF87, 0x135D...0x135F,
            0x17DD...0x17DD, 0x193A...0x193A, 0x1A17...0x1A17, 0x1A75...0x1A7C, 0x1B6B...0x1B6B,
        ]
        return ranges.flatMap { $0.map { Unicode.Scalar($0)! } }
    }()

    /// The largest panel side the placeholders can address.
    public static var maxCells: Int { diacritics.count }

    /// `payload` split into the protocol's chunks; the first carries `keys`, the others only `m`.
    static func chunked(_ keys: String, _ payload: Data) -> String {
        let encoded = Array(payload.base64EncodedString().utf8)
        var out = "", offset = 0
        repeat {
            let end = min(offset + chunkSize, encoded.count)
            let more = end < encoded.count ? 1 : 0
            let head = offset == 0 ? "\(keys),m=\(more)" : "m=\(more)"
            out += "\u{1B}_G\(head);" + String(decoding: encoded[offset..<end], as: UTF8.self) + "\u{1B}\\"
            offset = end
        } while offset < encoded.count
        return out
    }

    /// Transmits `image` as image `id` (replacing one of that id) and places it at the cursor
    /// over `columns` x `rows` cells; with `virtual`, makes a placement for placeholders instead.
    /// `q=2`: the terminal sends no replies (they would arrive as keys).
    public static func transmit(_ image: RGBImage, id: UInt32, columns: Int, rows: Int, virtual: Bool) -> String {
        let keys = "a=T,f=24,s=\(image.width),v=\(image.height),i=\(id),c=\(columns),r=\(rows),q=2,C=1" + (virtual ? ",U=1" : "")
        return delete(id: id, freeData: true) + chunked(keys, Data(image.pixels))
    }

    /// Deletes image `id`'s placements (and its data with `freeData`).
    public static func delete(id: UInt32, freeData: Bool = false) -> String {
        "\u{1B}_Ga=d,d=\(freeData ? "I" : "i"),i=\(id),q=2\u{1B}\\"
    }

    /// The placeholder text of one row of image `id` (ids below 256: a 256-colour foreground).
    public static func placeholderRow(id: UInt32, row: Int, columns: Int) -> String {
        var text = "\u{1B}[38;5;\(id)m"
        for column in 0..<columns {
            text.unicodeScalars.append(placeholder)
            text.unicodeScalars.append(diacritics[min(row, diacritics.count - 1)])
            text.unicodeScalars.append(diacritics[min(column, diacritics.count - 1)])
        }
        return text + "\u{1B}[39m"
    }

    /// The query that asks whether the terminal speaks the protocol (answered `ESC _Gi=31;OK ESC \`).
    public static let query = "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\"
}

/// Escapes for a program inside tmux: wrapped in tmux's passthrough (`set -g allow-passthrough on`)
/// with every ESC doubled, so that tmux hands them to the terminal outside.
public enum TmuxPassthrough {
    public static func wrap(_ body: String) -> String {
        "\u{1B}Ptmux;" + body.replacingOccurrences(of: "\u{1B}", with: "\u{1B}\u{1B}") + "\u{1B}\\"
    }
}
