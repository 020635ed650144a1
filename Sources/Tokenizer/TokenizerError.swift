#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TerminalText

/// Why a tokenizer could not be loaded. Every message is one line and names the file.
public enum TokenizerError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The file does not exist.
    case missingFile(URL)
    /// The file exists but could not be read (a folder, no permission, ...).
    case unreadableFile(URL, reason: String)
    /// The file was read but its content is not what a CLIP tokenizer needs.
    case malformedFile(URL, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let url):
            return "tokenizer file not found: \(url.path.terminalSafe)"
        case .unreadableFile(let url, let reason):
            return "cannot read tokenizer file \(url.path.terminalSafe): \(Self.oneLine(reason).terminalSafe)"
        case .malformedFile(let url, let reason):
            return "malformed tokenizer file \(url.path.terminalSafe): \(Self.oneLine(reason).terminalSafe)"
        }
    }

    public var errorDescription: String? { description }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0.isNewline }).joined(separator: " ")
    }

    /// Tokenizer files are a few MB (CLIP's vocab.json is 1.6 MB); anything this big is not one.
    static let maxFileSize = 64 << 20

    /// Reads a whole file, mapping failures to `missingFile` / `unreadableFile`. Only a regular
    /// file is opened: the kind is checked first and the file opened non-blocking, so a FIFO
    /// (or a device) given as a tokenizer file is refused instead of blocking forever.
    static func readFile(_ url: URL) throws -> Data {
        var status = stat()
        guard stat(url.path, &status) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw TokenizerError.missingFile(url) }
            throw TokenizerError.unreadableFile(url, reason: String(cString: strerror(errno)))
        }
        func checkKind(_ mode: mode_t) throws {
            switch mode & S_IFMT {
            case S_IFREG: return
            case S_IFDIR: throw TokenizerError.unreadableFile(url, reason: "it is a directory")
            case S_IFIFO: throw TokenizerError.unreadableFile(url, reason: "it is a named pipe (FIFO), not a regular file")
            default: throw TokenizerError.unreadableFile(url, reason: "it is a device or socket, not a regular file")
            }
        }
        try checkKind(status.st_mode)
        guard Int(status.st_size) <= maxFileSize else {
            throw TokenizerError.unreadableFile(url, reason: "it is \(status.st_size) bytes, over the \(maxFileSize >> 20) MiB limit for a tokenizer file")
        }
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw TokenizerError.unreadableFile(url, reason: String(cString: strerror(errno)))
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var opened = stat()
        guard fstat(descriptor, &opened) == 0 else {
            throw TokenizerError.unreadableFile(url, reason: String(cString: strerror(errno)))
        }
        try checkKind(opened.st_mode)
        do {
            return try handle.read(upToCount: maxFileSize) ?? Data()
        } catch {
            throw TokenizerError.unreadableFile(url, reason: error.localizedDescription)
        }
    }
}
