/// A prompt tokenized with slots for PhotoVerse's pseudo-words.
///
/// The rule (shared with training/photoverse_train): the text is split on the literal
/// placeholder (`S*`); each piece is encoded on its own; every placeholder becomes `slots`
/// consecutive positions; the whole is framed by BOS/EOS, cut to `length` like any prompt
/// and padded. The slot positions' embeddings are replaced by S_1..S_m before the text
/// encoder adds positions, so the id stored there (`*</w>`) only matters for display.
public struct PlaceholderTokens: Equatable {
    public let ids: [Int]
    /// For each placeholder occurrence, the positions of its slots (cut ones left out).
    public let slots: [[Int]]

    public var slotCount: Int { slots.reduce(0) { $0 + $1.count } }
}

extension CLIPTokenizer {
    public func tokenize(_ text: String, placeholder: String, slots: Int,
                         length: Int = CLIPTokenizer.defaultLength, padID: Int? = nil) -> PlaceholderTokens {
        precondition(length >= 2 && slots >= 1 && !placeholder.isEmpty)
        let pieces = text.components(separatedBy: placeholder)
        let slotID = id(ofToken: "*</w>") ?? eosID   // "*</w>", as training/photoverse_train does
        var body: [Int] = []
        var slotStarts: [Int] = []
        for (i, piece) in pieces.enumerated() {
            body += encode(piece)
            if i < pieces.count - 1 {
                slotStarts.append(body.count + 1)   // + 1 for BOS
                body += Array(repeating: slotID, count: slots)
            }
        }
        let kept = min(body.count, length - 2)
        var ids = [bosID] + body.prefix(kept) + [eosID]
        ids += repeatElement(padID ?? self.padID, count: length - ids.count)
        let positions = slotStarts.map { start in (start..<(start + slots)).filter { $0 <= kept } }
        return PlaceholderTokens(ids: ids, slots: positions.filter { !$0.isEmpty })
    }
}
