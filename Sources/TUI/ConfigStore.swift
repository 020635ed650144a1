import Foundation
import Formats

/// Reads and writes the user's config: $XDG_CONFIG_HOME/photoverse/config.json
/// (~/.config when XDG_CONFIG_HOME is unset), written atomically.
public struct ConfigStore {
    public let folder: URL
    public var file: URL { folder.appendingPathComponent("config.json") }

    public init(folder: URL) { self.folder = folder }

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        folder = URL(fileURLWithPath: base).appendingPathComponent("photoverse")
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The saved config; a fresh one when there is none. A damaged file is an error (not overwritten silently).
    public func load() throws -> UserConfig {
        guard FileManager.default.fileExists(atPath: file.path) else { return UserConfig() }
        // Through RegularFile: a FIFO or device put there is refused instead of blocking the start.
        let data: Data
        do {
            data = try RegularFile.read(file)
        } catch {
            throw Failure(description: "\(error)".terminalSafe)
        }
        do {
            return try JSONDecoder().decode(UserConfig.self, from: data)
        } catch {
            throw Failure(description: "\(file.path.terminalSafe): unreadable config (fix or delete it)")
        }
    }

    public func save(_ config: UserConfig) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try encoder.encode(config).write(to: file, options: .atomic)
        } catch {
            throw Failure(description: "\(file.path): cannot save the config (\(error.localizedDescription))")
        }
    }
}
