import Foundation

/// What is drawn over the panels and takes the keys while it is open.
public enum Overlay: Equatable {
    case help
    case picker
    case valueEntry(ParameterField)
    case confirmQuit
    case confirmDelete(URL)
    /// Typing the axes of a sweep.
    case sweepEntry
}
