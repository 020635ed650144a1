import ArgumentParser
import Formats
import Foundation
import Pipeline
import TensorCore

/// `photoverse face-embedding`: the ArcFace identity embedding of the face in a photo, for the
/// IP-Adapter FaceID variants or for comparing faces.
struct FaceEmbeddingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "face-embedding",
        abstract: "Compute the ArcFace embedding of the face in a photo (safetensors tensor 'embedding').",
        discussion: """
            The largest face is detected, aligned to ArcFace's 112x112 template with five points \
            (from the face mesh, or the detector's keypoints when Models/face-mesh is absent or \
            --no-mesh is given), and embedded. The output holds 'embedding' [1, N], scaled to \
            unit length (insightface's normed_embedding), and 'norm' [1], the raw length. \
            --arcface is a folder made by training/convert_arcface.py from insightface's .onnx \
            or .pth (non-commercial licence: the weights are your own).
            """)

    @Option(help: "ArcFace folder (config.json + arcface.safetensors, from training/convert_arcface.py).") var arcface: String
    @Argument(help: "The photo (PNG or JPEG).") var photo: String
    @Option(name: [.customShort("o"), .long], help: "Output safetensors file (never overwritten).") var out: String
    @Option(help: "Also write the aligned 112x112 crop to this PNG (never overwritten).") var alignedOut: String?
    @Flag(help: "Take the five points from the detector's keypoints even when the face mesh is available.") var noMesh = false

    func run() throws {
        do {
            for path in [out] + (alignedOut.map { [$0] } ?? []) where FileManager.default.fileExists(atPath: path) {
                throw UserFacingError("\(path): already exists; choose another file (results are never overwritten)")
            }
            let image: RGBImage
            do {
                image = try ImageFile.load(URL(fileURLWithPath: photo))
            } catch {
                throw UserFacingError("\(photo): cannot read the photo: \(error)")
            }
            let embedder = try FaceEmbedder(arcfaceFolder: URL(fileURLWithPath: arcface, isDirectory: true),
                                            faces: Shipped.faces, useMesh: !noMesh)
            let found = try embedder.embed(image, file: photo)
            let metadata = ["photo": URL(fileURLWithPath: photo).lastPathComponent, "points": found.pointsSource,
                            "arcface": URL(fileURLWithPath: arcface).lastPathComponent, "normalised": "unit length"]
            try SafetensorsWriter.write(["embedding": Tensor(shape: [1, found.values.count], values: found.values),
                                         "norm": Tensor(shape: [1], values: [found.norm])],
                                        metadata: metadata, to: URL(fileURLWithPath: out))
            if let alignedOut { try PNGCodec.write(found.aligned, to: URL(fileURLWithPath: alignedOut)) }
            let faces = found.faceCount == 1 ? "1 face" : "\(found.faceCount) faces, largest used"
            FileHandle.standardError.write(Data("\(photo.terminalSafe): \(faces) · points from the \(found.pointsSource) · \(found.values.count)-d, norm \(String(format: "%.3f", found.norm))\n".utf8))
            print(out)
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("photoverse face-embedding: \("\(error)".terminalSafe)\n".utf8))
            throw ExitCode(1)
        }
    }
}
