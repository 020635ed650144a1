import Foundation
import TestSupport
@testable import TUI
import XCTest

/// `photoverse ui` failures before the screen opens: one line on stderr, status 1.
final class CommandLineTests: XCTestCase {
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = PhotoverseUIBinary.url
        process.arguments = arguments
        process.environment = ["HOME": NSTemporaryDirectory(), "PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stderr)
    }

    func testAMissingModelFolderIsOneClearLine() throws {
        let result = try run(["ui", "--model", "/nonexistent/model"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "photoverse: /nonexistent/model (--model): not a model folder (no unet/config.json); pass --model DIR with a diffusers-layout folder\n")
    }

    func testNoTerminalIsOneClearLine() throws {
        let result = try run(["--model", Fixtures.url("tiny-sd").path])   // bare photoverse = the UI
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "photoverse: the interactive UI needs a terminal on stdin and stdout; scripts use `photoverse generate`\n")
    }

    func testABadImageModeIsOneClearLine() throws {
        let result = try run(["ui", "--model", Fixtures.url("tiny-sd").path], environment: ["PHOTOVERSE_IMAGES": "ascii"])
        XCTAssertEqual(result.stderr, "photoverse: PHOTOVERSE_IMAGES: unknown image mode 'ascii' (use auto, kitty, iterm, sixel, blocks or none)\n")
    }

    func testModelLocatorOrder() throws {
        let tiny = Fixtures.url("tiny-sd").path
        XCTAssertEqual(try ModelLocator.resolve(flag: tiny, embedded: nil, environment: ["PHOTOVERSE_MODEL": "/x"]).path, tiny)
        XCTAssertEqual(try ModelLocator.resolve(flag: nil, embedded: nil, environment: ["PHOTOVERSE_MODEL": tiny]).path, tiny)
        XCTAssertEqual(try ModelLocator.resolve(flag: nil, embedded: Fixtures.url("tiny-sd"), environment: [:]).path, tiny,
                       "no flag, no variable: the located embedded model")
        XCTAssertThrowsError(try ModelLocator.resolve(flag: nil, embedded: nil, environment: [:])) {
            XCTAssertTrue("\($0)".contains("pass --model DIR"), "\($0)")
        }
    }
}
