import Foundation

/// Every failure to read or write a file in this module.
///
/// The description is one line, `<file>: <what is wrong>`, so the CLI and TUI can show it
/// as is and a user knows which file to look at.
public struct FormatError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    public enum Problem: Equatable, Sendable {
        /// The file could not be opened, read or mapped.
        case unreadable
        /// The data ends before its own structure says it should.
        case truncated
        /// The first bytes are not those of the expected (or any supported) format.
        case wrongMagic
        /// A header that is malformed or contradicts itself or the file size.
        case invalidHeader
        /// A dtype, colour layout or feature this module does not handle.
        case unsupported
        /// Image dimensions over the pixel limit (or zero).
        case imageTooLarge
        /// A codec rejected the data after the header was accepted.
        case corruptData
        /// A tensor name that the file does not contain.
        case missingTensor
        /// A JSON config that is not valid JSON or does not fit the expected structure.
        case invalidConfig
        /// The target of a no-overwrite write exists already.
        case alreadyExists
        /// Writing, syncing or renaming failed.
        case writeFailed
        /// The values to write cannot be represented (bad PNG keyword, reserved tensor name...).
        case invalidInput
    }

    /// The path of the file concerned, as the caller gave it.
    public let file: String
    public let problem: Problem
    /// What is wrong, without the file name.
    public let message: String

    public init(file: String, problem: Problem, message: String) {
        self.file = file
        self.problem = problem
        self.message = message
    }

    public init(_ url: URL, _ problem: Problem, _ message: String) {
        self.init(file: url.path, problem: problem, message: message)
    }

    /// One line, safe to print: control characters in the path or in names quoted from the
    /// input (tensor names, keys) are shown as escapes (`terminalSafe`).
    public var description: String {
        let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        return "\(file.terminalSafe): \(oneLine.terminalSafe)"
    }

    public var errorDescription: String? { description }
}

extension FormatError {
    /// The `strerror` text of the current `errno`, for messages about system calls.
    static func systemMessage(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}
