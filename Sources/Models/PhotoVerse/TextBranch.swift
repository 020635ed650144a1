import TensorCore
import Tokenizer

extension CLIPTextModel {
    /// PhotoVerse's text branch: the prompt's placeholder slots get the pseudo-words
    /// S_1..S_m [1, m, width] in place of their token embeddings, then the encoder runs as usual.
    public func encode(_ tokens: PlaceholderTokens, pseudoWords: Tensor, deltas: LayerDeltas = .none) -> Tensor {
        let w = config.hiddenSize
        precondition(pseudoWords.rank == 3 && pseudoWords.shape[0] == 1 && pseudoWords.shape[2] == w,
                     "pseudo-words must be [1, m, \(w)], got \(pseudoWords.shape)")
        let embeddings = tokenEmbeddings([tokens.ids])
        for occurrence in tokens.slots {
            for (j, position) in occurrence.enumerated() {
                (embeddings.data + position * w).update(from: pseudoWords.data + j * w, count: w)
            }
        }
        return encode(embeddings: embeddings, deltas: deltas)
    }
}
