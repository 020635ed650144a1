import Foundation
import TestSupport
import XCTest
@testable import Formats

/// SplitMix64: a tiny seeded generator so fuzz mutations are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Asserts `body` throws a FormatError with `problem` whose one-line description names
/// the file (`fileName`) and contains every string in `mentions`.
func assertFormatError<T>(_ problem: FormatError.Problem, fileName: String, mentions: [String] = [],
                          file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) {
    do {
        let value = try body()
        XCTFail("expected \(problem), got \(value)", file: file, line: line)
    } catch let error as FormatError {
        XCTAssertEqual(error.problem, problem, "\(error)", file: file, line: line)
        let text = error.description
        XCTAssertFalse(text.contains("\n"), "not one line: \(text)", file: file, line: line)
        XCTAssertTrue(text.contains(fileName), "does not name \(fileName): \(text)", file: file, line: line)
        for mention in mentions {
            XCTAssertTrue(text.contains(mention), "does not mention '\(mention)': \(text)", file: file, line: line)
        }
        XCTAssertEqual(error.localizedDescription, text, file: file, line: line)
    } catch {
        XCTFail("expected FormatError, got \(type(of: error)): \(error)", file: file, line: line)
    }
}

/// CRC-32 as PNG uses it, to build chunks that pass libpng's CRC check.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
}

func bigEndianBytes(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
}

/// One PNG chunk: length, type, data, CRC.
func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let body = Array(type.utf8) + data
    return bigEndianBytes(UInt32(data.count)) + body + bigEndianBytes(crc32(body))
}

/// The chunks of a PNG file after the signature: (offset of the length field, type, data length).
func pngChunks(_ bytes: [UInt8]) -> [(offset: Int, type: String, length: Int)] {
    var result: [(Int, String, Int)] = []
    var offset = 8
    while offset + 12 <= bytes.count {
        let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
        let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
        result.append((offset, type, length))
        offset += 12 + length
    }
    return result
}

func fixtureBytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: Fixtures.url("formats/\(name)")))
}

func writeTemporary(_ bytes: [UInt8], name: String, in directory: URL) throws -> URL {
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}

/// Colours compare within `tolerance` per channel (JPEG is lossy).
func assertColor(_ actual: RGBColor, _ expected: RGBColor, tolerance: Int = 0,
                 _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    let close = abs(Int(actual.red) - Int(expected.red)) <= tolerance
        && abs(Int(actual.green) - Int(expected.green)) <= tolerance
        && abs(Int(actual.blue) - Int(expected.blue)) <= tolerance
    XCTAssertTrue(close, "\(message) got \(actual), expected \(expected) ±\(tolerance)", file: file, line: line)
}
