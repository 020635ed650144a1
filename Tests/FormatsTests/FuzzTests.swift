import Foundation
import TensorCore
import TestSupport
import XCTest
@testable import Formats

/// Seeded mutations of valid files: every parser must either succeed or throw a
/// FormatError, never crash, hang or read out of bounds.
final class FuzzTests: XCTestCase {
    static let iterations = 300

    enum Mutation: CaseIterable {
        case flipBytes, truncate, insertBytes, deleteBytes, overwriteRun
    }

    /// One random mutation of `bytes`, biased towards the first `hotRegion` bytes (headers).
    static func mutate(_ bytes: [UInt8], hotRegion: Int, using generator: inout SeededGenerator) -> [UInt8] {
        var result = bytes
        func position() -> Int {
            guard !result.isEmpty else { return 0 }
            let limit = Bool.random(using: &generator) ? min(hotRegion, result.count) : result.count
            return Int.random(in: 0..<max(limit, 1), using: &generator)
        }
        switch Mutation.allCases.randomElement(using: &generator)! {
        case .flipBytes:
            for _ in 0..<Int.random(in: 1...4, using: &generator) where !result.isEmpty {
                result[position()] ^= UInt8.random(in: 1...255, using: &generator)
            }
        case .truncate:
            result = Array(result.prefix(Int.random(in: 0...result.count, using: &generator)))
        case .insertBytes:
            let count = Int.random(in: 1...16, using: &generator)
            result.insert(contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }, at: min(position(), result.count))
        case .deleteBytes:
            guard !result.isEmpty else { break }
            let start = position()
            result.removeSubrange(start..<min(result.count, start + Int.random(in: 1...16, using: &generator)))
        case .overwriteRun:
            guard !result.isEmpty else { break }
            let start = position()
            let value: UInt8 = [0x00, 0xFF, 0x7F, 0x80].randomElement(using: &generator)!
            for index in start..<min(result.count, start + Int.random(in: 1...8, using: &generator)) { result[index] = value }
        }
        return result
    }

    private func expectNoCrash(_ label: String, _ body: () throws -> Void) {
        do {
            try body()
        } catch is FormatError {
            // fine: a clear refusal
        } catch {
            XCTFail("\(label): threw \(type(of: error)) instead of FormatError: \(error)")
        }
    }

    func testSafetensorsMutations() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = try fixtureBytes("reference.safetensors")
        var generator = SeededGenerator(seed: 0x5AFE)
        var opened = 0
        for iteration in 0..<Self.iterations {
            var bytes = Self.mutate(original, hotRegion: 400, using: &generator)
            if iteration % 5 == 0, bytes.count >= 8 {
                // Header-length lies: near the truth, or anything.
                let length: UInt64 = Bool.random(using: &generator)
                    ? UInt64(Int.random(in: -16...16, using: &generator) + 368)
                    : generator.next()
                withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
            }
            let url = try writeTemporary(bytes, name: "fuzz-\(iteration).safetensors", in: directory)
            expectNoCrash("safetensors #\(iteration)") {
                let file = try SafetensorsFile(url: url)
                opened += 1
                for name in file.tensorNames {
                    let info = try file.info(name)
                    let tensor = try file.tensor(name)
                    XCTAssertEqual(tensor.shape, info.shape)
                }
            }
            try FileManager.default.removeItem(at: url)
        }
        XCTAssertGreaterThan(opened, 0, "some mutations (e.g. inside data) should still parse")
    }

    func testPNGMutations() throws {
        let originals = try ["rgb8_adam7.png", "palette2_trns.png", "text.png", "gray16.png"].map(fixtureBytes)
        var generator = SeededGenerator(seed: 0x0B1A)
        var decoded = 0
        for iteration in 0..<Self.iterations {
            let original = originals[iteration % originals.count]
            var bytes = Self.mutate(original, hotRegion: 64, using: &generator)
            if iteration % 2 == 0 { Self.repairCRCs(&bytes) }  // reach past libpng's CRC check
            expectNoCrash("png #\(iteration)") {
                let image = try PNGCodec.decode(Data(bytes), file: "fuzz.png", maxPixels: 1 << 16)
                XCTAssertEqual(image.pixels.count, image.width * image.height * 3)
                decoded += 1
            }
            expectNoCrash("png text #\(iteration)") {
                _ = try PNGCodec.text(Data(bytes), file: "fuzz.png", maxPixels: 1 << 16)
            }
            expectNoCrash("image file #\(iteration)") {
                _ = try ImageFile.decode(Data(bytes), file: "fuzz.png", maxPixels: 1 << 16)
            }
        }
        XCTAssertGreaterThan(decoded, 0)
    }

    func testJPEGMutations() throws {
        let originals = try ["orientation-6.jpg", "progressive.jpg", "gray.jpg", "cmyk.jpg"].map(fixtureBytes)
        var generator = SeededGenerator(seed: 0x1E6)
        var decoded = 0
        for iteration in 0..<Self.iterations {
            let original = originals[iteration % originals.count]
            let bytes = Self.mutate(original, hotRegion: 256, using: &generator)
            expectNoCrash("jpeg #\(iteration)") {
                let image = try JPEGCodec.decode(Data(bytes), file: "fuzz.jpg", maxPixels: 1 << 16)
                XCTAssertEqual(image.pixels.count, image.width * image.height * 3)
                decoded += 1
            }
            // The EXIF parser on its own, on mutated EXIF-like data.
            _ = ExifOrientation.parse(exif: Array(bytes.dropFirst(12).prefix(120)))
        }
        XCTAssertGreaterThan(decoded, 0)
    }

    func testJSONConfigMutations() throws {
        struct Config: Decodable { let a: Int; let b: [Double]; let c: String? }
        let original = Array(#"{"a": 1, "b": [1.5, 2, -3e2], "c": "x\u00e9", "_ignored": {"deep": [true, null]}}"#.utf8)
        var generator = SeededGenerator(seed: 0xC0F1)
        for iteration in 0..<Self.iterations {
            let bytes = Self.mutate(original, hotRegion: original.count, using: &generator)
            expectNoCrash("json #\(iteration)") {
                _ = try JSONConfig.decode(Config.self, from: Data(bytes), file: "fuzz.json")
            }
        }
    }

    /// Recomputes every chunk CRC so mutations inside chunk data reach the decoders.
    static func repairCRCs(_ bytes: inout [UInt8]) {
        for chunk in pngChunks(bytes) where chunk.offset + 12 + chunk.length <= bytes.count {
            let body = Array(bytes[(chunk.offset + 4)..<(chunk.offset + 8 + chunk.length)])
            bytes.replaceSubrange((chunk.offset + 8 + chunk.length)..<(chunk.offset + 12 + chunk.length), with: bigEndianBytes(crc32(body)))
        }
    }
}
