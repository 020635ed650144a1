import Foundation

/// What is drawn over the panels and takes the keys while it is open.
public enum Overlay: Equatable {
    case help
    case picker
    case valueEntry(ParameterField)
    /// Typing the scale of the LoRA file at this index of the request's list.
    case loraScaleEntry(Int)
    case confirmQuit
    case confirmDelete(URL)
    /// Typing the axes of a sweep.
    case sweepEntry
}
