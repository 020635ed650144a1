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
    /// Loads the TAESD into `pipeline` when the request can use it (as the final decoder, or for
    /// the previews it asks for), or when `--taesd` names one (checked even if unused). The record
    /// names the folder when it decoded the image, and only then (a preview-only TAESD is not
    /// needed to rerun it). Asking for TAESD where there is none is the pipeline's one-line refusal.
    static func attach(to pipeline: GenerationPipeline, for request: inout GenerationRequest, wantsPreviews: Bool,
                       named: String?) throws {
        let uses = request.decoder == .taesd || request.preview == .taesd || (wantsPreviews && request.preview == .auto)
        let path = uses ? request.taesd : named
        let folder = path.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? (uses ? ModelFolder.tinyAutoencoderFolder(in: modelFolder(of: request)) : nil)
        if let folder { try pipeline.useTinyAutoencoder(folder: folder) }
        request.taesd = request.decoder == .taesd ? folder?.path : nil
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
