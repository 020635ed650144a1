import Foundation

/// Finds folders that ship next to the program in its repository (themes/, Models/mini):
/// the executable lives under <repo>/.build*/..., so the repository is one of its ancestors.
public enum RepositoryLocator {
    /// The first ancestor folder of the running executable that contains `relativePath`.
    public static func find(_ relativePath: String, executable: URL? = Bundle.main.executableURL) -> URL? {
        guard var folder = executable?.resolvingSymlinksInPath().deletingLastPathComponent() else { return nil }
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent(relativePath)
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            folder.deleteLastPathComponent()
        }
        return nil
    }
}
