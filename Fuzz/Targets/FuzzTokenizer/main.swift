import Foundation
import FuzzSupport
import Tokenizer

/// CLIP's tokenizer (the real 49,408-token vocabulary from Tests/Fixtures/clip-tokenizer) on
/// arbitrary text: clean-up, BPE, padding/truncation, placeholders and decoding. The first byte
/// picks the clean-up (OpenAI CLIP or transformers) and the pseudo-word count.
let folder = FuzzCheck.repositoryRoot.appendingPathComponent("Tests/Fixtures/clip-tokenizer")
let tokenizers: [CLIPTokenizer] = {
    do {
        return [try CLIPTokenizer(folder: folder, cleaning: .clip), try CLIPTokenizer(folder: folder, cleaning: .transformers)]
    } catch {
        fatalError("fuzz-tokenizer: cannot load \(folder.path): \(error)")
    }
}()

func fuzzTokenizer(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzCheck.data(start, count)
    guard let selector = input.first else { return 0 }
    let tokenizer = tokenizers[Int(selector & 1)]
    let slots = Int((selector >> 1) & 7) + 1
    let text = String(decoding: input.dropFirst(), as: UTF8.self)
    let valid = 0...tokenizer.largestID

    let ids = tokenizer.encode(text)
    FuzzCheck.expect(ids.allSatisfy { valid.contains($0) }, "tokenizer", "encode gave an id outside the vocabulary")
    let framed = tokenizer.tokenize(text)
    FuzzCheck.expect(framed.count == CLIPTokenizer.defaultLength && framed.first == tokenizer.bosID
                     && framed.contains(tokenizer.eosID), "tokenizer", "tokenize framing")
    FuzzCheck.expect(Array(framed.dropFirst().prefix(min(ids.count, CLIPTokenizer.defaultLength - 2)))
                     == Array(ids.prefix(CLIPTokenizer.defaultLength - 2)), "tokenizer", "tokenize disagrees with encode")
    _ = tokenizer.clean(text)
    _ = tokenizer.decode(ids)
    _ = tokenizer.decode(framed, skipSpecialTokens: false)
    let placeholder = tokenizer.tokenize(text, placeholder: "S*", slots: slots)
    FuzzCheck.expect(placeholder.ids.count == CLIPTokenizer.defaultLength, "tokenizer", "placeholder length")
    for occurrence in placeholder.slots {
        FuzzCheck.expect(occurrence.allSatisfy { $0 > 0 && $0 < CLIPTokenizer.defaultLength - 1 }, "tokenizer",
                         "slot positions \(occurrence) outside the prompt")
    }
    _ = tokenizer.positions(of: "S*", in: framed)
    return 0
}

FuzzCheck.run(fuzzTokenizer)
