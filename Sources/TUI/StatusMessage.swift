import Foundation

/// A one-line message in the status line, shown for a while instead of the key hints.
public struct StatusMessage: Equatable {
    public let text: String
    public let isError: Bool
    public let until: Date

    public init(_ text: String, isError: Bool = false, now: Date = Date()) {
        // One line, always: errors from deeper layers may carry newlines.
        self.text = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        self.isError = isError
        until = now.addingTimeInterval(isError ? 12 : 6)
    }
}
