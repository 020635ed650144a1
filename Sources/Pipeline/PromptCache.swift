import TensorCore

/// Text embeddings by prompt (and pseudo-words), least recently used dropped first:
/// an interactive session re-runs the same prompts with new seeds and knobs.
struct PromptCache {
    struct Key: Hashable {
        let text: String
        let pseudoWords: [Float]?
        /// The text-encoder LoRAs and their scales (`TextEncoderLoRA.key`).
        let lora: String

        init(text: String, pseudoWords: Tensor?, lora: String = "") {
            self.text = text
            self.pseudoWords = pseudoWords?.scalars
            self.lora = lora
        }
    }

    let capacity: Int
    private var entries: [Key: Tensor] = [:]
    private var order: [Key] = []

    init(capacity: Int) { self.capacity = capacity }

    subscript(key: Key) -> Tensor? {
        mutating get {
            guard let value = entries[key] else { return nil }
            if let i = order.firstIndex(of: key) { order.remove(at: i) }
            order.append(key)
            return value
        }
        set {
            if let i = order.firstIndex(of: key) { order.remove(at: i) }
            entries[key] = newValue
            guard newValue != nil else { return }
            order.append(key)
            while order.count > capacity { entries[order.removeFirst()] = nil }
        }
    }

    mutating func removeAll() {
        entries.removeAll()
        order.removeAll()
    }
}
