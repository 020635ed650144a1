#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TensorCore
import TestSupport
import XCTest
@testable import Formats

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

/// Bad inputs from issue [2.1]: each is refused with one line naming the file and the reason,
/// never a hang, a trap or a silent pick.
final class InputRefusalTests: XCTestCase {
    var directory: URL!

    override func setUp() {
        directory = Fixtures.temporaryDirectory("input-refusal")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `body` on another thread and fails (instead of hanging the suite) if it does not
    /// return within `seconds`: a FIFO opened for reading would block forever.
    private func withinSeconds<T>(_ seconds: Double, _ label: String, _ body: @escaping () throws -> T) -> Result<T, Error>? {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        let work = body
        Thread.detachNewThread { [box, work] in
            box.result = Result { try work() }
            done.signal()
        }
        guard done.wait(timeout: .now() + seconds) == .success else {
            XCTFail("\(label): still blocked after \(seconds) s")
            return nil
        }
        return box.result
    }

    private func assertRefused<T>(_ label: String, _ url: URL, mentions: String,
                                  file: StaticString = #filePath, line: UInt = #line, _ body: @escaping () throws -> T) {
        guard let result = withinSeconds(5, label, body) else { return }
        switch result {
        case .success:
            XCTFail("\(label): accepted \(url.lastPathComponent)", file: file, line: line)
        case .failure(let error as FormatError):
            XCTAssertEqual(error.problem, .unreadable, "\(label): \(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains(url.lastPathComponent), "\(label): \(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains(mentions), "\(label): \(error)", file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
        case .failure(let error):
            XCTFail("\(label): expected FormatError, got \(error)", file: file, line: line)
        }
    }

    /// Every reading entry point, on `url`.
    private func assertEveryReaderRefuses(_ url: URL, mentions: String, file: StaticString = #filePath, line: UInt = #line) {
        assertRefused("SafetensorsFile", url, mentions: mentions, file: file, line: line) { try SafetensorsFile(url: url) }
        assertRefused("ImageFile.load", url, mentions: mentions, file: file, line: line) { try ImageFile.load(url) }
        assertRefused("PNGCodec.read", url, mentions: mentions, file: file, line: line) { try PNGCodec.read(url) }
        assertRefused("PNGCodec.readText", url, mentions: mentions, file: file, line: line) { try PNGCodec.readText(url) }
        assertRefused("JPEGCodec.read", url, mentions: mentions, file: file, line: line) { try JPEGCodec.read(url) }
        assertRefused("JSONConfig.load", url, mentions: mentions, file: file, line: line) {
            try JSONConfig.load([String: Int].self, from: url)
        }
        assertRefused("RegularFile.read", url, mentions: mentions, file: file, line: line) { try RegularFile.read(url) }
    }

    func testFIFOIsRefusedBeforeItIsOpened() throws {
        for name in ["weights.safetensors", "face.png", "face.jpg", "config.json"] {
            let fifo = directory.appendingPathComponent(name)
            XCTAssertEqual(mkfifo(fifo.path, 0o600), 0, String(cString: strerror(errno)))
            assertEveryReaderRefuses(fifo, mentions: "named pipe (FIFO), not a regular file")
        }
    }

    func testDirectoryAndDeviceAreRefused() {
        let folder = directory.appendingPathComponent("model.safetensors")
        XCTAssertNoThrow(try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false))
        assertEveryReaderRefuses(folder, mentions: "is a directory")
        assertEveryReaderRefuses(URL(fileURLWithPath: "/dev/null"), mentions: "character device")
    }

    func testSymlinkToARegularFileIsRead() throws {
        let target = try writeTemporary(try fixtureBytes("rgb8.png"), name: "real.png", in: directory)
        let link = directory.appendingPathComponent("link.png")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        XCTAssertEqual(try ImageFile.load(link).width, try ImageFile.load(target).width)
    }

    func testConfigFileSizeIsBounded() throws {
        let url = directory.appendingPathComponent("config.json")
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: nil))
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(JSONConfig.maxFileSize + 1))   // sparse: no disk used
        try handle.close()
        assertFormatError(.unsupported, fileName: "config.json", mentions: ["MiB limit"]) {
            try JSONConfig.load([String: Int].self, from: url)
        }
    }

    // MARK: - Duplicate names

    /// A safetensors file whose header is `json` (padded to 8 bytes) followed by `data`.
    private func safetensors(_ json: String, data: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0], name: String = "dup.safetensors") throws -> URL {
        var header = Array(json.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }
        bytes += header + data
        return try writeTemporary(bytes, name: name, in: directory)
    }

    func testDuplicateTensorNameIsRefusedNamingIt() throws {
        let url = try safetensors(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
                                  + #""a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#)
        assertFormatError(.invalidHeader, fileName: "dup.safetensors", mentions: ["tensor 'a' appears twice"]) {
            try SafetensorsFile(url: url)
        }
    }

    func testDuplicateKeysInsideTheHeaderAreRefused() throws {
        let field = try safetensors(#"{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}"#, name: "field.safetensors")
        assertFormatError(.invalidHeader, fileName: "field.safetensors", mentions: ["'a.dtype' appears twice"]) {
            try SafetensorsFile(url: field)
        }
        let metadata = try safetensors(#"{"__metadata__":{"k":"1","k":"2"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
                                       name: "meta.safetensors")
        assertFormatError(.invalidHeader, fileName: "meta.safetensors", mentions: ["'__metadata__.k' appears twice"]) {
            try SafetensorsFile(url: metadata)
        }
        let twoMetadata = try safetensors(#"{"__metadata__":{},"__metadata__":{}}"#, name: "two.safetensors")
        assertFormatError(.invalidHeader, fileName: "two.safetensors", mentions: ["two __metadata__"]) {
            try SafetensorsFile(url: twoMetadata)
        }
    }

    func testDeeplyNestedHeaderIsRefusedNotRecursedInto() throws {
        let url = try safetensors("{\"a\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}",
                                  name: "deep.safetensors")
        assertFormatError(.invalidHeader, fileName: "deep.safetensors", mentions: ["nested deeper than"]) {
            try SafetensorsFile(url: url)
        }
    }

    func testHeaderJSONSyntaxErrorsNameTheOffset() throws {
        let url = try safetensors(#"{"a":{"dtype":"F32","shape":[1,],"data_offsets":[0,4]}}"#, name: "comma.safetensors")
        assertFormatError(.invalidHeader, fileName: "comma.safetensors", mentions: ["not valid JSON", "at byte"]) {
            try SafetensorsFile(url: url)
        }
    }

    func testShapeWhoseNonZeroProductOverflowsIsRefused() throws {
        let url = try safetensors(#"{"a":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}"#,
                                  name: "empty-huge.safetensors")
        assertFormatError(.invalidHeader, fileName: "empty-huge.safetensors", mentions: ["too large"]) {
            try SafetensorsFile(url: url)
        }
    }

    func testConfigWithADuplicateKeyIsRefused() {
        let json = Data(#"{"in_channels": 4, "unet": {"heads": 8, "heads": 4}}"#.utf8)
        assertFormatError(.invalidConfig, fileName: "config.json", mentions: ["key 'unet.heads' appears twice"]) {
            try JSONConfig.decode([String: JSONValue].self, from: json, file: "/m/unet/config.json")
        }
    }

    func testStrictJSONAgreesWithFoundationOnValidDocuments() throws {
        let text = #"{"a": [1, -2, 3.5, true, false, null, "x\u00e9\ud83d\ude00\n"], "b": {}, "c": []}"#
        let value = try StrictJSON.parse(Array(text.utf8))
        XCTAssertEqual(value, try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))
        XCTAssertEqual(try StrictJSON.parse(Array("\u{FEFF}{\"a\": 1}".utf8)), .object(["a": .integer(1)]))
        for bad in ["", "{", "[1 2]", "{\"a\" 1}", "01", "1.", "-", "\"\\x\"", "\"\\ud800\"", "tru", "{} {}", "[\"\u{1}\"]"] {
            XCTAssertThrowsError(try StrictJSON.parse(Array(bad.utf8)), bad)
        }
    }

    // MARK: - Found by fuzzing

    /// fuzz-png: a 50-byte PNG whose tEXt chunk declares 512 MiB made libpng allocate 512 MiB
    /// before finding the file ends. Chunks must fit in the file before libpng starts.
    func testPNGChunkLongerThanTheFileIsRefusedBeforeAllocating() throws {
        var bytes = PNGCodec.signature
        bytes += pngChunk("IHDR", bigEndianBytes(1) + bigEndianBytes(1) + [8, 2, 0, 0, 0])
        bytes += bigEndianBytes(536_870_956) + Array("tEXt".utf8) + Array("key\0value".utf8)
        for read in [{ _ = try PNGCodec.decode(Data(bytes), file: "bomb.png") },
                     { _ = try PNGCodec.text(Data(bytes), file: "bomb.png") }] as [() throws -> Void] {
            assertFormatError(.truncated, fileName: "bomb.png",
                              mentions: ["chunk 'tEXt' at byte 33 declares 536870956 bytes, past the end of the file (50 bytes)"]) {
                try read()
            }
        }
    }

    // MARK: - Terminal-safe messages

    func testEscapeSequencesInNamesAreNotEchoedRaw() throws {
        let hostile = "evil\u{1B}[2J\u{1B}]0;owned\u{07}"
        let url = try safetensors(#"{""# + "evil\\u001b[2J" + #"":{"shape":[1],"data_offsets":[0,4]}}"#,
                                  name: "\(hostile).safetensors")
        do {
            _ = try SafetensorsFile(url: url)
            XCTFail("accepted a tensor without dtype")
        } catch let error as FormatError {
            let text = error.description
            XCTAssertFalse(text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, text)
            XCTAssertTrue(text.contains("evil\\e[2J\\e]0;owned\\u{7}.safetensors"), text)
            XCTAssertTrue(text.contains("tensor 'evil\\e[2J': missing dtype"), text)
        }
        let missing = directory.appendingPathComponent("\(hostile).png")
        do {
            _ = try ImageFile.load(missing)
            XCTFail("loaded a missing file")
        } catch {
            XCTAssertFalse("\(error)".unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "\(error)")
        }
    }

    // MARK: - Stale temporary files of the atomic writer

    private func touch(_ name: String, age: TimeInterval) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data("partial".utf8).write(to: url)
        let date = Date().addingTimeInterval(-age)
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: url.path)
        return url
    }

    func testTemporaryNamePatternIsExact() {
        for name in [".out.png.tmp-AbC123", ".a.tmp-000000", "..tmp-zzzzzz.tmp-Q1w2E3"] {
            XCTAssertTrue(AtomicFileWriter.isTemporaryName(name), name)
        }
        for name in ["out.png.tmp-AbC123", ".out.png.tmp-AbC12", ".out.png.tmp-AbC1234", ".out.png.tmp-AbC12!",
                     ".tmp-AbC123", ".out.png.tmp_AbC123", ".out.png", ""] {
            XCTAssertFalse(AtomicFileWriter.isTemporaryName(name), name)
        }
    }

    func testStaleTemporariesAreRemovedOnTheNextWrite() throws {
        let stale = try touch(".0001.png.tmp-Xy12Ab", age: 3600)
        let staleOther = try touch(".model.safetensors.tmp-000aaa", age: AtomicFileWriter.staleTemporaryAge + 60)
        let live = try touch(".0002.png.tmp-Zz99Qq", age: 30)   // a concurrent writer's file
        let lookalikes = [try touch("0003.png.tmp-Xy12Ab", age: 3600), try touch(".notes.tmp-Xy12A", age: 3600),
                          try touch(".0004.png.tmp-Xy12Ab7", age: 3600)]
        let folderLike = directory.appendingPathComponent(".dir.tmp-abcdef")
        try FileManager.default.createDirectory(at: folderLike, withIntermediateDirectories: false)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: folderLike.path)

        try AtomicFileWriter.write(Data("new".utf8), to: directory.appendingPathComponent("result.png"), overwrite: false)

        let exists = { (url: URL) in FileManager.default.fileExists(atPath: url.path) }
        XCTAssertFalse(exists(stale))
        XCTAssertFalse(exists(staleOther))
        XCTAssertTrue(exists(live), "a live temporary file must never be touched")
        for url in lookalikes { XCTAssertTrue(exists(url), url.lastPathComponent) }
        XCTAssertTrue(exists(folderLike))
        XCTAssertEqual(try Data(contentsOf: directory.appendingPathComponent("result.png")), Data("new".utf8))
        // writeNumbered (the output folder's path) cleans too.
        let another = try touch(".0005.png.tmp-Qq11Ww", age: 3600)
        try AtomicFileWriter.writeNumbered(in: directory, prefix: "", pathExtension: "png") { try $0.write([1, 2, 3]) }
        XCTAssertFalse(exists(another))
    }
}
