import Foundation
import XCTest

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
    /// (`$TMPDIR/photoverse-tests-XXXXXX`), which is removed when the process exits normally with
    /// no test failed, so `make test` leaves nothing behind; a failed or crashed run keeps its
    /// files to look at, and so does any run with PHOTOVERSE_KEEP_TEST_FILES=1.
    public static func temporaryDirectory(_ label: String = "photoverse-tests") -> URL {
        let url = processFolder.appendingPathComponent("\(label)-\(UUID().uuidString)", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    public static let keepFilesVariable = "PHOTOVERSE_KEEP_TEST_FILES"

    /// Created on first use (mkdtemp: unique even across containers sharing TMPDIR); its removal
    /// is registered with atexit, and a failure watch with XCTest, at the same moment.
    public static let processFolder: URL = {
        var template = Array(FileManager.default.temporaryDirectory.appendingPathComponent("photoverse-tests-XXXXXX").path.utf8CString)
        let folder = template.withUnsafeMutableBufferPointer { buffer -> URL in
            guard let made = mkdtemp(buffer.baseAddress!) else { fatalError("cannot create a test folder in \(NSTemporaryDirectory())") }
            return URL(fileURLWithPath: String(cString: made), isDirectory: true)
        }
        if ProcessInfo.processInfo.environment[keepFilesVariable] != "1" {
            XCTestObservationCenter.shared.addTestObserver(FailureWatch.shared)
            atexit {
                if !FailureWatch.shared.anyFailed { try? FileManager.default.removeItem(at: Fixtures.processFolder) }
            }
        }
        return folder
    }()
}

/// Whether a test of this process has failed (its files are then kept).
final class FailureWatch: NSObject, XCTestObservation, @unchecked Sendable {
    static let shared = FailureWatch()
    private let lock = NSLock()
    private var failed = false

    var anyFailed: Bool { lock.withLock { failed } }

    func testCase(_ testCase: XCTestCase, didFailWithDescription description: String, inFile filePath: String?, atLine lineNumber: Int) {
        lock.withLock { failed = true }
    }
}
