import Foundation
import Formats
import Models

/// The text encoder's LoRA deltas for one run, and what names them in the prompt cache.
struct TextEncoderLoRA {
    let deltas: LayerDeltas
    /// The files (with text-encoder layers) and their scales; "" when none applies.
    let key: String

    static let none = TextEncoderLoRA(deltas: .none, key: "")

    init(deltas: LayerDeltas, key: String) {
        self.deltas = deltas
        self.key = key
    }

    init(_ loras: [(file: LoRAFile, scale: Float)], deltas: LayerDeltas) {
        self.deltas = deltas
        key = loras.filter { !$0.file.textEncoder.isEmpty && $0.scale != 0 }
            .map { "\($0.file.url.path)\u{0}\($0.scale)" }.joined(separator: "\u{0}")
    }
}

/// A file's size and modification date: a LoRA file rewritten in place is read again.
struct FileStamp: Equatable {
    let size: Int
    let modified: Date?

    init(_ url: URL) throws {
        size = try RegularFile.check(url)
        modified = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
    }
}

extension GenerationPipeline {
    /// The LoRA file at `path`, read and matched to this model's layers once; later requests
    /// (other scales, other files beside it) reuse it unless the file changed on disk.
    func loraFile(_ path: String) throws -> LoRAFile {
        let url = URL(fileURLWithPath: path)
        let stamp = try FileStamp(url)
        if let cached = loraFiles[path], cached.stamp == stamp { return cached.file }
        let file = try LoRAFile(url: url, unet: unet.loraTargets, textEncoder: textEncoder.loraTargets)
        loraFiles[path] = (file, stamp)
        // Prompt embeddings are cached by file path and scale: a changed file must not reuse them.
        promptCache.removeAll()
        return file
    }

    /// Drops the files the last request did not use (a LoRA for SD1.5 is tens to hundreds of MB
    /// in Float32): changing scales keeps them, switching to other files lets them go.
    func forgetLoRAFiles(except paths: [String]) {
        for path in loraFiles.keys where !paths.contains(path) { loraFiles[path] = nil }
    }
}
