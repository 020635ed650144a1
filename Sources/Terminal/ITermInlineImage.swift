import Foundation
import Formats

/// iTerm2's inline images (also WezTerm, mintty, Konsole): a PNG in an OSC 1337 escape, drawn
/// at the cursor over `columns` x `rows` cells.
public enum ITermInlineImage {
    public static func encode(_ image: RGBImage, columns: Int, rows: Int) throws -> String {
        let png = try PNGCodec.encode(image)
        return "\u{1B}]1337;File=inline=1;size=\(png.count);width=\(columns);height=\(rows);preserveAspectRatio=1:"
            + png.base64EncodedString() + "\u{07}"
    }
}
