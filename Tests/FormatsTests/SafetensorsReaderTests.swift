import Foundation
import TensorCore
import TestSupport
import XCTest
@testable import Formats

final class SafetensorsReaderTests: XCTestCase {
    /// reference.safetensors was written by the Python `safetensors` package.
    func testReadsReferenceFile() throws {
        let file = try SafetensorsFile(url: Fixtures.url("formats/reference.safetensors"))
        XCTAssertEqual(file.tensorNames, ["bf16", "empty", "f16", "f32", "i64"])
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "made by make_format_fixtures.py"])
        XCTAssertTrue(file.contains("f32"))
        XCTAssertFalse(file.contains("F32"))

        let info = try file.info("f16")
        XCTAssertEqual(info.dtype, .f16)
        XCTAssertEqual(info.shape, [8])
        XCTAssertEqual(info.byteRange, 64..<80)

        let f32 = try file.tensor("f32")
        XCTAssertEqual(f32.shape, [2, 3])
        XCTAssertEqual(f32.scalars, [1.0, -2.5, 3.25, 0.0, 1e-3, -1e6])

        let f16 = try file.tensor("f16").scalars
        XCTAssertEqual(f16[0], 1)
        XCTAssertEqual(f16[1], 65504)
        XCTAssertEqual(f16[2], 0x1p-24)
        XCTAssertEqual(f16[3], -.infinity)
        XCTAssertTrue(f16[4].isNaN)
        XCTAssertEqual(f16[5].sign, .minus)
        XCTAssertEqual(Array(f16[6...]), [0.5, 0x1p-14])

        XCTAssertEqual(try file.tensor("bf16").scalars, [1, -2, 3.140625, Float(bitPattern: 29002 << 16)])
        XCTAssertEqual(try file.tensor("i64").scalars, [0, 1, -7, 76])
        let empty = try file.tensor("empty")
        XCTAssertEqual(empty.shape, [0, 3])
        XCTAssertEqual(empty.count, 0)
    }

    func testMissingTensorNamesTensorAndFile() throws {
        let file = try SafetensorsFile(url: Fixtures.url("formats/reference.safetensors"))
        assertFormatError(.missingTensor, fileName: "reference.safetensors", mentions: ["'unet.conv_in.weight'"]) {
            try file.tensor("unet.conv_in.weight")
        }
    }

    func testReadsEveryConvertibleDtypeFromRawLayout() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Hand-built: an odd-sized header start so elements are not aligned in the file.
        let cases: [(SafetensorsDType, [UInt8], [Float])] = [
            (.f64, withUnsafeBytes(of: (-1.5).bitPattern.littleEndian) { Array($0) }, [-1.5]),
            (.i32, withUnsafeBytes(of: Int32(-123_456).littleEndian) { Array($0) }, [-123_456]),
            (.i16, [0x00, 0x80], [-32768]),
            (.i8, [0xFF], [-1]),
            (.u64, withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Array($0) }, [Float(1 << 40)]),
            (.u32, [0xFF, 0xFF, 0xFF, 0xFF], [Float(UInt32.max)]),
            (.u16, [0xFF, 0xFF], [65535]),
            (.u8, [200], [200]),
            (.bool, [0, 1, 7], [0, 1, 1]),
            (.f8e4m3, [0x38, 0xC0], [1, -2]),
            (.f8e5m2, [0x3C], [1]),
        ]
        for (dtype, data, expected) in cases {
            let json = "{\"x\":{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(expected.count)],\"data_offsets\":[1,\(1 + data.count)]}}"
            let bytes = Self.file(header: json, data: [0xAA] + data)
            let url = try writeTemporary(bytes, name: "\(dtype.rawValue).safetensors", in: directory)
            let tensor = try SafetensorsFile(url: url).tensor("x")
            XCTAssertEqual(tensor.scalars, expected, dtype.rawValue)
        }
    }

    // MARK: - Invalid files: each error names the file and the problem.

    func testRejectsTooShortFile() throws {
        try expect(.truncated, mentions: ["truncated", "3 bytes"], bytes: [1, 2, 3])
        try expect(.truncated, mentions: ["truncated"], bytes: [])
    }

    func testRejectsHeaderLengthBeyondFile() throws {
        var bytes = Self.file(header: "{}", data: [])
        bytes[0] = 200
        try expect(.invalidHeader, mentions: ["header length 200", "past the end"], bytes: bytes)
    }

    func testRejectsNonJSONAndNonObjectHeaders() throws {
        try expect(.wrongMagic, mentions: ["'{'"], bytes: Self.file(header: "[1, 2]", data: []))
        try expect(.invalidHeader, mentions: ["not valid JSON"], bytes: Self.file(header: "{\"a\": ", data: []))
        try expect(.invalidHeader, mentions: ["not a safetensors file"], bytes: try fixtureBytes("rgb8.png"))
    }

    func testRefusesPickleCheckpoints() throws {
        let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0, count: 60)
        try expect(.unsupported, mentions: ["pickle", "never unpickles"], bytes: zip)
        try expect(.unsupported, mentions: ["pickle"], bytes: [0x80, 0x02, 0x7D, 0x71, 0x00, 0x28, 0x58, 0x01, 0x00])

        // A real safetensors file whose header length (640 = 0x280) starts like a pickle.
        let json = #"{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
        let padded = json + String(repeating: " ", count: 640 - json.utf8.count)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try writeTemporary(Self.file(header: padded, data: [42]), name: "lookalike.safetensors", in: directory)
        XCTAssertEqual(try SafetensorsFile(url: url).tensor("x").scalars, [42])
    }

    func testRejectsUnknownDtype() throws {
        let json = #"{"w":{"dtype":"Q4_K","shape":[2],"data_offsets":[0,2]}}"#
        try expect(.unsupported, mentions: ["'w'", "unsupported dtype 'Q4_K'"], bytes: Self.file(header: json, data: [0, 0]))
    }

    func testRejectsShapeThatDoesNotMatchByteRange() throws {
        let json = #"{"w":{"dtype":"F16","shape":[2,3],"data_offsets":[0,8]}}"#
        try expect(.invalidHeader, mentions: ["'w'", "hold 8 bytes", "needs 12"], bytes: Self.file(header: json, data: Array(repeating: 0, count: 8)))
    }

    func testRejectsNegativeAndOverflowingShapes() throws {
        let negative = #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#
        try expect(.invalidHeader, mentions: ["'w'", "non-negative"], bytes: Self.file(header: negative, data: [0, 0, 0, 0]))
        let huge = #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#
        try expect(.invalidHeader, mentions: ["'w'", "too large"], bytes: Self.file(header: huge, data: [0, 0, 0, 0]))
        let fractional = #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#
        try expect(.invalidHeader, mentions: ["'w'", "shape"], bytes: Self.file(header: fractional, data: [0, 0, 0, 0]))
    }

    func testRejectsRangesOutsideTheDataSection() throws {
        let json = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        try expect(.invalidHeader, mentions: ["'w'", "past the end of the data section (8 bytes)"],
                   bytes: Self.file(header: json, data: Array(repeating: 0, count: 8)))
        let backwards = #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#
        try expect(.invalidHeader, mentions: ["'w'", "data_offsets"], bytes: Self.file(header: backwards, data: Array(repeating: 0, count: 8)))
    }

    func testRejectsOverlappingRanges() throws {
        let json = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        try expect(.invalidHeader, mentions: ["'a'", "'b'", "overlap"], bytes: Self.file(header: json, data: Array(repeating: 0, count: 12)))
    }

    func testRejectsNonStringMetadata() throws {
        let json = #"{"__metadata__":{"steps":20}}"#
        try expect(.invalidHeader, mentions: ["__metadata__", "'steps'"], bytes: Self.file(header: json, data: []))
    }

    func testMissingFileIsUnreadable() {
        assertFormatError(.unreadable, fileName: "no-such.safetensors", mentions: ["No such file"]) {
            try SafetensorsFile(url: URL(fileURLWithPath: "/nonexistent/no-such.safetensors"))
        }
    }

    // MARK: - Helpers

    /// 8-byte length + header + data.
    static func file(header: String, data: [UInt8]) -> [UInt8] {
        let json = Array(header.utf8)
        return withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json + data
    }

    private func expect(_ problem: FormatError.Problem, mentions: [String], bytes: [UInt8],
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try writeTemporary(bytes, name: "bad-weights.safetensors", in: directory)
        assertFormatError(problem, fileName: "bad-weights.safetensors", mentions: mentions, file: file, line: line) {
            try SafetensorsFile(url: url)
        }
    }
}
