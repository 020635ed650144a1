import ArgumentParser
import Formats
import Foundation
import Models
import Pipeline

extension FinalDecoder: ExpressibleByArgument {}
extension PreviewDecoder: ExpressibleByArgument {}

/// Where a run's TAESD comes from: --taesd FOLDER (or the one a loaded record names), else the
/// model folder's own taesd/. Located here, once, and handed to the pipeline.
enum TinyAutoencoderLocation {
    /// Loads the TAESD into `pipeline` when the request can use it: as the final decoder, for
    /// the previews it asks for, or because a folder was named. The request then records the
    /// folder. Asking for TAESD where there is none is left to the pipeline's one-line refusal.
    static func attach(to pipeline: GenerationPipeline, for request: inout GenerationRequest, wantsPreviews: Bool) throws {
        let uses = request.decoder == .taesd || request.preview == .taesd || (wantsPreviews && request.preview == .auto)
        guard uses || request.taesd != nil else { return }
        let folder = request.taesd.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? ModelFolder.tinyAutoencoderFolder(in: modelFolder(of: request))
        guard let folder else { return }
        try pipeline.useTinyAutoencoder(folder: folder)
        request.taesd = folder.path
    }

    /// The folder whose taesd/ counts: the model folder, or a single file's config folder.
    static func modelFolder(of request: GenerationRequest) -> URL {
        let model = URL(fileURLWithPath: request.model ?? ".", isDirectory: true)
        guard model.pathExtension == "safetensors" || model.pathExtension == "ckpt" else { return model }
        return URL(fileURLWithPath: request.configFolder ?? model.deletingLastPathComponent().path, isDirectory: true)
    }
}

/// `generate --preview-dir DIR`: each step's preview of x₀ as DIR/step-NN.png (written
/// atomically, in a folder that must not exist yet, so nothing earlier is overwritten).
struct PreviewWriter {
    let folder: URL

    /// Makes the folder; refuses one that exists.
    init(creating path: String) throws {
        folder = URL(fileURLWithPath: path, isDirectory: true)
        guard !FileManager.default.fileExists(atPath: folder.path) else {
            throw UserFacingError("\(path): already exists; choose another --preview-dir (previews are never overwritten)")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func write(_ progress: StepProgress) throws {
        guard let preview = progress.preview else { return }
        let digits = String(progress.total).count
        let name = "step-" + String(repeating: "0", count: max(digits - String(progress.step).count, 0)) + "\(progress.step).png"
        try PNGCodec.write(RGBImage(tensor: preview, range: .zeroToOne), to: folder.appendingPathComponent(name))
    }
}
