import Foundation
import TensorCore
import TestSupport
import XCTest
@testable import Formats

final class SafetensorsWriterTests: XCTestCase {
    private var directory: URL!

    override func setUp() {
        directory = Fixtures.temporaryDirectory()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    func testFloat32RoundTripIsExact() throws {
        let url = directory.appendingPathComponent("latents.safetensors")
        let latents = Tensor(shape: [1, 4, 2, 3], values: (0..<24).map { Float($0) * 0.37 - 4 })
        let bias = Tensor(shape: [3], values: [.infinity, -0.0, Float(bitPattern: 0x0001_16C2)])
        try SafetensorsWriter.write(["latents": latents, "bias": bias],
                                    metadata: ["seed": "42", "prompt": "a \"quoted\"\nline\tand \u{1}"],
                                    to: url)
        let file = try SafetensorsFile(url: url)
        XCTAssertEqual(file.tensorNames, ["bias", "latents"])
        XCTAssertEqual(file.metadata, ["seed": "42", "prompt": "a \"quoted\"\nline\tand \u{1}"])
        XCTAssertEqual(try file.info("latents").dtype, .f32)
        XCTAssertEqual(try file.tensor("latents").shape, [1, 4, 2, 3])
        XCTAssertEqual(try file.tensor("latents").scalars.map(\.bitPattern), latents.scalars.map(\.bitPattern))
        XCTAssertEqual(try file.tensor("bias").scalars.map(\.bitPattern), bias.scalars.map(\.bitPattern))
    }

    func testFloat16AndBFloat16RoundTripWithinPrecision() throws {
        let values: [Float] = [1, -2.5, 65504, 0x1p-24, 0.1, 3.14159, -1e-3, 0]
        let tensor = Tensor(shape: [2, 4], values: values)
        for dtype in [SafetensorsDType.f16, .bf16] {
            let url = directory.appendingPathComponent("\(dtype.rawValue).safetensors")
            try SafetensorsWriter.write(["w": tensor], dtype: dtype, to: url)
            let file = try SafetensorsFile(url: url)
            XCTAssertEqual(try file.info("w").dtype, dtype)
            XCTAssertEqual(try file.info("w").byteRange, 0..<16)
            let read = try file.tensor("w").scalars
            for (got, expected) in zip(read, values) {
                let tolerance = dtype == .f16 ? max(abs(expected) * 0x1p-11, 0x1p-25) : abs(expected) * 0x1p-8
                XCTAssertEqual(got, expected, accuracy: tolerance, "\(dtype.rawValue)")
            }
        }
        let f16 = try SafetensorsFile(url: directory.appendingPathComponent("F16.safetensors")).tensor("w").scalars
        XCTAssertEqual(f16[0], 1)
        XCTAssertEqual(f16[2], 65504)
        XCTAssertEqual(f16[3], 0x1p-24)
        XCTAssertEqual(f16[4], HalfPrecision.float(fromF16: 0x2E66))  // 0.1 rounds to 0x2E66
    }

    func testLayoutFollowsTheSpec() throws {
        let url = directory.appendingPathComponent("layout.safetensors")
        try SafetensorsWriter.write(["b": Tensor(shape: [1], values: [2]), "a": Tensor(shape: [2], values: [0, 1])],
                                    metadata: ["k": "v"], to: url)
        let bytes = [UInt8](try Data(contentsOf: url))
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        XCTAssertEqual(headerLength % 8, 0, "header padded to 8 bytes")
        XCTAssertEqual(bytes.count, 8 + headerLength + 12)
        let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces),
                       #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#)
        XCTAssertTrue(header.hasSuffix(" ") || header.hasSuffix("}"))
    }

    func testRefusesToOverwriteUnlessAsked() throws {
        let url = directory.appendingPathComponent("out.safetensors")
        try SafetensorsWriter.write(["x": Tensor(shape: [1], values: [1])], to: url)
        assertFormatError(.alreadyExists, fileName: "out.safetensors", mentions: ["exists"]) {
            try SafetensorsWriter.write(["x": Tensor(shape: [1], values: [2])], to: url)
        }
        XCTAssertEqual(try SafetensorsFile(url: url).tensor("x").scalars, [1])
        try SafetensorsWriter.write(["x": Tensor(shape: [1], values: [3])], to: url, overwrite: true)
        XCTAssertEqual(try SafetensorsFile(url: url).tensor("x").scalars, [3])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [], "temporary files are cleaned up")
    }

    func testRejectsReservedNamesAndUnwritableDtypes() {
        let url = directory.appendingPathComponent("bad.safetensors")
        assertFormatError(.invalidInput, fileName: "bad.safetensors", mentions: ["__metadata__"]) {
            try SafetensorsWriter.write(["__metadata__": Tensor(shape: [1], values: [1])], to: url)
        }
        assertFormatError(.unsupported, fileName: "bad.safetensors", mentions: ["I64"]) {
            try SafetensorsWriter.write(["x": Tensor(shape: [1], values: [1])], dtype: .i64, to: url)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    func testLargeTensorCrossesConversionChunks() throws {
        let count = (1 << 16) * 2 + 5
        let tensor = Tensor(shape: [count], values: (0..<count).map { Float($0 % 2048) })
        let url = directory.appendingPathComponent("large.safetensors")
        try SafetensorsWriter.write(["big": tensor], dtype: .f16, to: url)
        XCTAssertEqual(try SafetensorsFile(url: url).tensor("big").scalars, tensor.scalars)
    }
}
