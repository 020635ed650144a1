import Foundation

/// Earlier prompts, newest last, walked with ↑/↓ at the editor's first/last line like a shell's.
/// Walking away from the text being written keeps it, so walking back restores it.
public struct PromptHistory: Equatable, Sendable {
    public private(set) var entries: [String]
    public let capacity: Int
    /// nil: not walking; otherwise the index in `entries` being shown.
    private var position: Int?
    private var draft = ""

    public init(entries: [String] = [], capacity: Int = 100) {
        self.entries = Array(entries.suffix(capacity))
        self.capacity = capacity
    }

    /// Remembers a used prompt (not twice in a row, never empty).
    public mutating func record(_ text: String) {
        position = nil
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, entries.last != text else { return }
        entries.append(text)
        if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
    }

    /// The entry before the one shown (starting from `current`, the text being edited).
    public mutating func previous(current: String) -> String? {
        guard !entries.isEmpty else { return nil }
        let index: Int
        if let position {
            guard position > 0 else { return nil }
            index = position - 1
        } else {
            draft = current
            index = entries.count - 1
        }
        position = index
        return entries[index]
    }

    /// The entry after the one shown; past the newest, the draft that was being written.
    public mutating func next() -> String? {
        guard let position else { return nil }
        if position + 1 < entries.count {
            self.position = position + 1
            return entries[position + 1]
        }
        self.position = nil
        return draft
    }

    public mutating func stopWalking() { position = nil }
}
