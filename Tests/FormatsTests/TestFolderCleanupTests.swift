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

        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["FormatsTests.TestFolderCleanupTests/testTestFoldersAreFreshAndGoneAfterTheProcessExits"]
        var environment = ProcessInfo.processInfo.environment.merging([Self.childVariable: "1"]) { $1 }
        environment[Fixtures.keepFilesVariable] = nil
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("Executed 1 test, with 0 failures"), text)
        let childFolder = Fixtures.processFolder.deletingLastPathComponent()
            .appendingPathComponent("photoverse-tests-\(process.processIdentifier)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: childFolder.path), "\(childFolder.path) left behind")
    }
}
