import Foundation

/// Locates files committed under `Tests/Fixtures`, independent of the working directory.
public enum Fixtures {
    /// The repository's `Tests/Fixtures` folder.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // TestSupport
        .deletingLastPathComponent()   // Tests
        .appendingPathComponent("Fixtures", isDirectory: true)

    public static func url(_ relativePath: String) -> URL {
        root.appendingPathComponent(relativePath)
    }

    /// A fresh temporary directory inside this test process's own folder
    /// (`$TMPDIR/photoverse-tests-<pid>`), which is removed when the process exits normally, so
    /// `make test` leaves nothing behind; a crashed run keeps its files to look at, and so does
    /// any run with PHOTOVERSE_KEEP_TEST_FILES=1.
    public static func temporaryDirectory(_ label: String = "photoverse-tests") -> URL {
        let url = processFolder.appendingPathComponent("\(label)-\(UUID().uuidString)", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    public static let keepFilesVariable = "PHOTOVERSE_KEEP_TEST_FILES"

    /// Created on first use; its removal is registered with atexit at the same moment.
    public static let processFolder: URL = {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("photoverse-tests-\(getpid())", isDirectory: true)
        try? FileManager.default.removeItem(at: folder)   // a crashed run's, under a reused pid
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if ProcessInfo.processInfo.environment[keepFilesVariable] != "1" {
            atexit { try? FileManager.default.removeItem(at: Fixtures.processFolder) }
        }
        return folder
    }()
}
