import Foundation

/// The run the engine is working on, as far as the UI knows.
public struct RunStatus: Equatable {
    public let id: Int
    public var seed: UInt64
    public var step = 0
    public var total: Int
    public var elapsed = 0.0
    public let started: Date

    public var secondsPerStep: Double { step > 0 ? elapsed / Double(step) : 0 }
    public var fraction: Double { total > 0 ? Double(step) / Double(total) : 0 }
}

/// The last run that ended, for the progress line between runs.
public struct FinishedRun: Equatable {
    public let file: String
    public let seconds: Double
    public let steps: Int
}
