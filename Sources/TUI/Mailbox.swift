import Foundation

/// A thread-safe queue of messages from the engine's thread to the UI's: the engine posts,
/// the main loop takes everything waiting at each tick and never blocks on the engine.
public final class Mailbox<Message>: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [Message] = []

    public init() {}

    public func post(_ message: Message) {
        lock.lock()
        messages.append(message)
        lock.unlock()
    }

    /// Everything posted since the last call, oldest first.
    public func takeAll() -> [Message] {
        lock.lock()
        defer { lock.unlock() }
        let taken = messages
        messages = []
        return taken
    }
}
