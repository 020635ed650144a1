import Foundation

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
            return "tokenizer file not found: \(url.path)"
        case .unreadableFile(let url, let reason):
            return "cannot read tokenizer file \(url.path): \(Self.oneLine(reason))"
        case .malformedFile(let url, let reason):
            return "malformed tokenizer file \(url.path): \(Self.oneLine(reason))"
        }
    }

    public var errorDescription: String? { description }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0.isNewline }).joined(separator: " ")
    }

    /// Reads a whole file, mapping failures to `missingFile` / `unreadableFile`.
    static func readFile(_ url: URL) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw TokenizerError.missingFile(url)
        }
        if isDirectory.boolValue {
            throw TokenizerError.unreadableFile(url, reason: "it is a directory")
        }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadableFile(url, reason: error.localizedDescription)
        }
    }
}
