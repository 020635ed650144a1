import Foundation
import Formats
import TensorCore
import TestSupport
import XCTest

/// `photoverse face-embedding` end to end with the tiny random ArcFace fixture: the file it
/// writes, what it says, and its refusals.
final class FaceEmbeddingCommandTests: XCTestCase {
    let arcface = Fixtures.url("face-geometry/arcface-tiny").path
    let photo = Fixtures.url("faces/grace_hopper.jpg").path

    func testWritesTheUnitEmbeddingAndTheAlignedCrop() throws {
        let dir = Fixtures.temporaryDirectory("cli-face-embedding")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("hopper.safetensors"), crop = dir.appendingPathComponent("aligned.png")
        let result = try PhotoverseBinary.run(["face-embedding", "--arcface", arcface, photo, "-o", out.path,
                                               "--aligned-out", crop.path], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, out.path + "\n")
        XCTAssertTrue(result.stderr.contains("grace_hopper.jpg: 1 face · points from the face mesh · 64-d"), result.stderr)
        let file = try SafetensorsFile(url: out)
        let embedding = try file.tensor("embedding")
        XCTAssertEqual(embedding.shape, [1, 64])
        XCTAssertEqual(embedding.scalars.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
        XCTAssertGreaterThan(try file.tensor("norm").scalars[0], 0)
        // PyTorch's embedding of insightface's own crop of the same face (cv2 norm_crop).
        let golden = try SafetensorsFile(url: Fixtures.url("face-geometry/arcface_golden.safetensors")).tensor("embedding").scalars
        let norm = golden.reduce(0) { $0 + $1 * $1 }.squareRoot()
        XCTAssertGreaterThan(zip(embedding.scalars, golden).reduce(0) { $0 + $1.0 * $1.1 } / norm, 0.999)
        let aligned = try ImageFile.load(crop)
        XCTAssertEqual([aligned.width, aligned.height], [112, 112])
        // Never overwritten.
        let again = try PhotoverseBinary.run(["face-embedding", "--arcface", arcface, photo, "-o", out.path], in: dir)
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("hopper.safetensors: already exists"), again.stderr)
        XCTAssertEqual(try SafetensorsFile(url: out).tensor("embedding").scalars, embedding.scalars)
    }

    /// The file feeds `generate --face-embedding` (IP-Adapter FaceID; its tiny fixture takes 64
    /// values, as the tiny ArcFace gives): the run goes through and the face changes the result.
    func testTheEmbeddingDrivesIPAdapterFaceID() throws {
        let dir = Fixtures.temporaryDirectory("cli-face-embedding-faceid")
        defer { try? FileManager.default.removeItem(at: dir) }
        let embedding = dir.appendingPathComponent("hopper.safetensors")
        let made = try PhotoverseBinary.run(["face-embedding", "--arcface", arcface, photo, "-o", embedding.path], in: dir)
        XCTAssertEqual(made.status, 0, made.stderr)
        let variants = Fixtures.url("ip-adapter-variants")
        let noise = dir.appendingPathComponent("noise.safetensors")
        try SafetensorsWriter.write(["latents": try SafetensorsFile(url: variants.appendingPathComponent("faceid-golden.safetensors")).tensor("noise")],
                                    to: noise)
        func generate(_ face: String, _ name: String) throws -> Tensor {
            let latents = dir.appendingPathComponent("\(name)-latents.safetensors")
            let result = try PhotoverseBinary.run(["generate", "--model", Fixtures.url("tiny-sd").path,
                                                   "--adapter", variants.appendingPathComponent("faceid.safetensors").path,
                                                   "--face-embedding", face, "--prompt", "a photo of a person", "--steps", "2",
                                                   "--scheduler", "ddim", "--noise", noise.path, "--latents-out", latents.path,
                                                   "--out", dir.appendingPathComponent("\(name).png").path], in: dir)
            XCTAssertEqual(result.status, 0, result.stderr)
            return try SafetensorsFile(url: latents).tensor("latents")
        }
        let ours = try generate(embedding.path, "hopper")
        let theirs = try generate(variants.appendingPathComponent("face_embedding.safetensors").path, "fixture")
        XCTAssertTrue(ours.isAllFinite)
        XCTAssertGreaterThan(ours.maxAbsDifference(theirs), 1e-3, "another face, another image")
    }

    func testWithoutTheMeshTheDetectorKeypointsAreUsed() throws {
        let dir = Fixtures.temporaryDirectory("cli-face-embedding-nomesh")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("e.safetensors")
        let result = try PhotoverseBinary.run(["face-embedding", "--arcface", arcface, photo, "-o", out.path, "--no-mesh"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("points from the detector keypoints"), result.stderr)
    }

    func testRefusalsAreOneLine() throws {
        let dir = Fixtures.temporaryDirectory("cli-face-embedding-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("e.safetensors").path
        for (arguments, mention) in [
            (["--arcface", dir.path, photo, "-o", out], "convert_arcface.py"),
            (["--arcface", arcface, Fixtures.url("faces/coffee.png").path, "-o", out], "coffee.png: no face found to embed"),
            (["--arcface", arcface, dir.appendingPathComponent("missing.jpg").path, "-o", out], "missing.jpg: cannot read the photo"),
        ] {
            let result = try PhotoverseBinary.run(["face-embedding"] + arguments, in: dir)
            XCTAssertEqual(result.status, 1, mention)
            XCTAssertTrue(result.stderr.contains(mention), result.stderr)
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
    }
}
