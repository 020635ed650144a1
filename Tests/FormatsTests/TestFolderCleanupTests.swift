import Foundation
import TestSupport
import XCTest

/// `make test` must not leave its files in /tmp: every test folder lives inside one folder per
/// test process, removed at exit. The exit is checked on a child test process (this test again).
final class TestFolderCleanupTests: XCTestCase {
    static let childVariable = "PHOTOVERSE_TEST_FOLDER_CHECK"

    func testTestFoldersAreFreshAndGoneAfterTheProcessExits() throws {
        let first = Fixtures.temporaryDirectory("cleanup-check")
        let second = Fixtures.temporaryDirectory("cleanup-check")
        XCTAssertNotEqual(first, second)
        for folder in [first, second] {
            var isFolder: ObjCBool = false
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) && isFolder.boolValue)
            XCTAssertEqual(folder.deletingLastPathComponent().lastPathComponent, "photoverse-tests-\(getpid())")
        }
        try Data("kept until exit".utf8).write(to: first.appendingPathComponent("file.txt"))
        if ProcessInfo.processInfo.environment[Self.childVariable] == "1" { return }

        let child = try ChildTestProcess.run(
            "FormatsTests.TestFolderCleanupTests/testTestFoldersAreFreshAndGoneAfterTheProcessExits",
            environment: [Self.childVariable: "1", Fixtures.keepFilesVariable: nil])
        XCTAssertTrue(child.passedOneTest, child.output)
        let childFolder = Fixtures.processFolder.deletingLastPathComponent()
            .appendingPathComponent("photoverse-tests-\(child.processIdentifier)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: childFolder.path), "\(childFolder.path) left behind")
    }
}
