import Foundation
import TestSupport
import XCTest

/// `make test` must not leave its files in /tmp: every test folder lives inside one folder per
/// test process, removed at exit unless a test failed. The exit is checked on child test
/// processes (this test again, passing and failing on purpose).
final class TestFolderCleanupTests: XCTestCase {
    static let childVariable = "PHOTOVERSE_TEST_FOLDER_CHECK"

    func testTestFoldersAreFreshAndGoneAfterTheProcessExits() throws {
        let first = Fixtures.temporaryDirectory("cleanup-check")
        let second = Fixtures.temporaryDirectory("cleanup-check")
        XCTAssertNotEqual(first, second)
        for folder in [first, second] {
            var isFolder: ObjCBool = false
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) && isFolder.boolValue)
            XCTAssertEqual(folder.deletingLastPathComponent().standardizedFileURL.path, Fixtures.processFolder.standardizedFileURL.path)
        }
        try Data("kept until exit".utf8).write(to: first.appendingPathComponent("file.txt"))
        if let mode = ProcessInfo.processInfo.environment[Self.childVariable] {
            print("test folder: \(Fixtures.processFolder.path)")
            if mode == "fail" { XCTFail("a deliberate failure: this child's files must stay") }
            return
        }

        let passing = try ChildTestProcess.run(Self.thisTest, environment: [Self.childVariable: "pass", Fixtures.keepFilesVariable: nil])
        XCTAssertTrue(passing.passedOneTest, passing.output)
        let passingFolder = try Self.folder(of: passing)
        XCTAssertNotEqual(passingFolder, Fixtures.processFolder.path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: passingFolder), "\(passingFolder) left behind")

        let failing = try ChildTestProcess.run(Self.thisTest, environment: [Self.childVariable: "fail", Fixtures.keepFilesVariable: nil])
        XCTAssertNotEqual(failing.status, 0, failing.output)
        let failingFolder = try Self.folder(of: failing)
        XCTAssertTrue(FileManager.default.fileExists(atPath: failingFolder), "a failed run's files were removed")
        try? FileManager.default.removeItem(atPath: failingFolder)
    }

    static let thisTest = "FormatsTests.TestFolderCleanupTests/testTestFoldersAreFreshAndGoneAfterTheProcessExits"

    static func folder(of child: ChildTestProcess) throws -> String {
        let line = try XCTUnwrap(child.output.split(separator: "\n").first { $0.hasPrefix("test folder: ") }, child.output)
        return String(line.dropFirst("test folder: ".count))
    }
}
