/// What the UI needs from the engine: queue runs, stop them, see how busy it is.
public protocol GenerationQueue: AnyObject {
    func enqueue(_ jobs: [GenerationJob])
    /// Stops the running job between steps and drops the waiting ones; returns how many were dropped.
    @discardableResult func cancelAll() -> Int
    /// Runs waiting behind the current one.
    var waitingCount: Int { get }
    var isBusy: Bool { get }
}
