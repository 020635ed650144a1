import Foundation

/// Moves files to the user's trash the freedesktop.org way ($XDG_DATA_HOME/Trash, with a
/// .trashinfo file), so a deleted result can be restored from a file manager.
public struct Trash {
    public let root: URL

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let dataHome = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.local/share")
        root = URL(fileURLWithPath: dataHome).appendingPathComponent("Trash")
    }

    public init(root: URL) { self.root = root }

    /// Moves `file` into the trash; returns where it went. One-line error on failure.
    @discardableResult
    public func move(_ file: URL) throws -> URL {
        let files = root.appendingPathComponent("files"), info = root.appendingPathComponent("info")
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: files, withIntermediateDirectories: true)
            try manager.createDirectory(at: info, withIntermediateDirectories: true)
        } catch {
            throw TrashError(description: "\(root.path): cannot create the trash folder")
        }
        let base = file.deletingPathExtension().lastPathComponent, ext = file.pathExtension
        var name = file.lastPathComponent, counter = 1
        while manager.fileExists(atPath: files.appendingPathComponent(name).path)
                || manager.fileExists(atPath: info.appendingPathComponent(name + ".trashinfo").path) {
            counter += 1
            name = ext.isEmpty ? "\(base).\(counter)" : "\(base).\(counter).\(ext)"
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let path = file.standardizedFileURL.path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? file.path
        let record = "[Trash Info]\nPath=\(path)\nDeletionDate=\(formatter.string(from: Date()))\n"
        let infoFile = info.appendingPathComponent(name + ".trashinfo")
        let destination = files.appendingPathComponent(name)
        do {
            try Data(record.utf8).write(to: infoFile)
            try manager.moveItem(at: file, to: destination)
        } catch {
            try? manager.removeItem(at: infoFile)
            throw TrashError(description: "\(file.path): cannot move to the trash (\(error.localizedDescription))")
        }
        return destination
    }
}

public struct TrashError: Error, CustomStringConvertible {
    public let description: String
}
