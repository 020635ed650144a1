import Synchronization

/// A request from another thread to stop a forward pass at the next layer boundary. A step
/// of SD1.5 takes seconds and its VAE decode tens of seconds, so a process that is ending
/// cannot wait for the step to finish: the UNet and the VAE check this between layers.
public final class StopFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    /// Also consulted on every check: e.g. a flag a signal handler sets, which cannot call `raise`.
    private let poll: (@Sendable () -> Bool)?

    public init(poll: (@Sendable () -> Bool)? = nil) { self.poll = poll }

    public func raise() { raised.store(true, ordering: .relaxed) }

    public var isRaised: Bool { raised.load(ordering: .relaxed) || poll?() == true }

    /// Throws `ForwardStopped` when a stop was asked for.
    public func check() throws {
        if isRaised { throw ForwardStopped() }
    }
}

/// Thrown out of a forward pass that a `StopFlag` interrupted; its partial results are gone.
public struct ForwardStopped: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "stopped" }
}
