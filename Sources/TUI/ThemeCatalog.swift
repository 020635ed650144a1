import Foundation

/// The themes a user can pick: `*.theme` files in the user's config folder
/// (`photoverse/themes`), then in the repository's `themes/`. Earlier folders win on names.
public struct ThemeCatalog {
    public private(set) var files: [String: URL] = [:]

    public init(folders: [URL]) {
        for folder in folders.reversed() {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for name in names where name.hasSuffix(".theme") {
                files[String(name.dropLast(6))] = folder.appendingPathComponent(name)
            }
        }
    }

    /// The user's themes, then the shipped ones (`shipped`: located by the front end).
    public static func standardFolders(configFolder: URL, shipped: URL?) -> [URL] {
        [configFolder.appendingPathComponent("themes")] + [shipped].compactMap { $0 }
    }

    /// Names in the order `t` cycles through them: dark, light, high-contrast first, then the rest.
    public var names: [String] {
        let preferred = ["dark", "light", "high-contrast"].filter { files[$0] != nil }
        return preferred + files.keys.filter { !preferred.contains($0) }.sorted()
    }

    /// A theme by name or by a path to a .theme file.
    public func load(_ nameOrPath: String) throws -> Theme {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".theme") {
            return try Theme.load(URL(fileURLWithPath: nameOrPath))
        }
        guard let url = files[nameOrPath] else {
            let known = names.isEmpty ? "none found" : names.joined(separator: ", ")
            throw Theme.ParseError(description: "unknown theme '\(nameOrPath)' (available: \(known))")
        }
        return try Theme.load(url)
    }

    /// The name after `current` (wrapping), for the `t` key.
    public func name(after current: String) -> String? {
        let all = names
        guard !all.isEmpty else { return nil }
        guard let index = all.firstIndex(of: current) else { return all[0] }
        return all[(index + 1) % all.count]
    }
}
