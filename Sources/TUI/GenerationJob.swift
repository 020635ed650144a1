import Foundation

/// One queued run: the settings as they were when `g` was pressed, and its seed.
public struct GenerationJob: Sendable {
    public let id: Int
    public let settings: GenerationSettings
    public let seed: UInt64
    public let outputFolder: URL
}
