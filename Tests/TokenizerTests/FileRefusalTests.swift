#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TestSupport
import Tokenizer
import XCTest

/// Issue [2.1]: a FIFO or device given as a tokenizer file is refused before it is opened
/// (a FIFO would block forever); a vocabulary naming a token twice is refused; messages
/// never echo control characters.
final class FileRefusalTests: XCTestCase {
    var folder: URL!

    override func setUp() {
        folder = Fixtures.temporaryDirectory("tokenizer-refusal")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    private func load(timeout: Double = 5) -> Error? {
        final class Box: @unchecked Sendable { var error: Error? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let folder = folder!
        Thread.detachNewThread {
            do { _ = try CLIPTokenizer(folder: folder) } catch { box.error = error }
            done.signal()
        }
        guard done.wait(timeout: .now() + timeout) == .success else {
            XCTFail("loading is still blocked after \(timeout) s")
            return nil
        }
        return box.error
    }

    private func copyFixture(_ name: String) throws {
        try FileManager.default.copyItem(at: Fixtures.url("clip-tokenizer/\(name)"), to: folder.appendingPathComponent(name))
    }

    func testFIFOAsVocabularyIsRefusedWithoutBlocking() throws {
        try copyFixture("merges.txt")
        XCTAssertEqual(mkfifo(folder.appendingPathComponent("vocab.json").path, 0o600), 0)
        let error = load()
        XCTAssertTrue("\(error.map { "\($0)" } ?? "none")".contains("vocab.json: it is a named pipe (FIFO), not a regular file"),
                      "\(String(describing: error))")
    }

    func testFIFOAsMergesIsRefusedWithoutBlocking() throws {
        try copyFixture("vocab.json")
        XCTAssertEqual(mkfifo(folder.appendingPathComponent("merges.txt").path, 0o600), 0)
        let error = load()
        XCTAssertTrue("\(error.map { "\($0)" } ?? "none")".contains("merges.txt: it is a named pipe (FIFO)"), "\(String(describing: error))")
    }

    func testDeviceIsRefused() throws {
        try copyFixture("merges.txt")
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("vocab.json"),
                                                   withDestinationURL: URL(fileURLWithPath: "/dev/zero"))
        let error = load()
        XCTAssertTrue("\(error.map { "\($0)" } ?? "none")".contains("device or socket"), "\(String(describing: error))")
    }

    func testDuplicateTokenIsRefused() throws {
        try copyFixture("merges.txt")
        try Data(#"{"a": 1, "b": 2, "a": 3}"#.utf8).write(to: folder.appendingPathComponent("vocab.json"))
        let error = load()
        XCTAssertTrue("\(error.map { "\($0)" } ?? "none")".contains("the token \"a\" appears twice at byte 18"), "\(String(describing: error))")
    }

    func testHugeTokenIdIsRefusedBeforeTheTableIsMade() throws {
        try copyFixture("merges.txt")
        try Data(#"{"<|startoftext|>": 0, "<|endoftext|>": 999999999}"#.utf8).write(to: folder.appendingPathComponent("vocab.json"))
        let error = load()
        XCTAssertTrue("\(error.map { "\($0)" } ?? "none")".contains("implausibly large"), "\(String(describing: error))")
    }

    func testControlCharactersInTheFileNameAreEscaped() throws {
        let hostile = folder.appendingPathComponent("tok\u{1B}]2;title\u{07}")
        try FileManager.default.createDirectory(at: hostile, withIntermediateDirectories: false)
        do {
            _ = try CLIPTokenizer(folder: hostile)
            XCTFail("loaded an empty folder")
        } catch {
            let text = "\(error)"
            XCTAssertFalse(text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, text)
            XCTAssertTrue(text.contains("tok\\e]2;title\\u{7}/vocab.json"), text)
        }
    }
}
