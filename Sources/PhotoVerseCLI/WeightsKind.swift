import Formats
import Foundation

/// What `photoverse inspect` says about a weights file or folder that is not an SD model folder,
/// an IP-Adapter or a LoRA: the kind, recognised from its config or tensor names alone, and what
/// it needs alongside. Loading checks the weights themselves; this only tells a user what they hold.
struct WeightsKind {
    let title: String
    /// Lines that say how it is used and what it needs alongside.
    let needs: [String]

    /// Files never opened here: pickles (converted first) and other programs' formats.
    static let converters: [String: String] = [
        "ckpt": "an SD1.x checkpoint: .venv/bin/python training/convert_checkpoint.py FILE [OUT.safetensors]",
        "pt": "a pickled state dict: training/convert_checkpoint.py (checkpoints), convert_elite.py (ELITE's global_mapper.pt)",
        "bin": "a pickled state dict: training/convert_checkpoint.py (IP-Adapter .bin, SD checkpoints)",
        "pth": "a pickled state dict: training/convert_arcface.py (ArcFace backbone.pth), convert_taesd.py (taesd_encoder/decoder.pth)",
        "onnx": "an ONNX graph: training/convert_arcface.py (insightface's ArcFace .onnx)",
        "dat": "a dlib model: training/convert_dlib_face.py --resnet ... --landmarks ... --out DIR",
        "tflite": "a TensorFlow Lite model: training/convert_face_mesh.py --tflite FILE (the face mesh)",
    ]

    /// The kind of `path`, or nil when it is none of these (the caller then reads it as a model folder).
    static func recognise(_ path: String) -> WeightsKind? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        let url = URL(fileURLWithPath: path)
        if isDirectory.boolValue { return folder(url) }
        if let converter = converters[url.pathExtension.lowercased()] {
            return WeightsKind(title: "not read by photoverse (never unpickled or parsed here)", needs: ["convert it first: \(converter)"])
        }
        guard url.pathExtension.lowercased() == "safetensors", let file = try? SafetensorsFile(url: url) else { return nil }
        if file.tensorNames.contains(where: { $0.hasPrefix("text_adapter.") || $0.hasPrefix("image_adapter.") }) {
            let m = file.metadata
            let source = m["source"].map { ", from \($0)" } ?? ""
            return WeightsKind(title: "PhotoVerse adapter (branches \(m["branches"] ?? "?")\(source); --adapter FILE)",
                               needs: ["needs the base model it was trained for (\(m["base_model"] ?? "not named")) and --reference PHOTO",
                                       "needs its CLIP image encoder: --image-encoder DIR, or the model folder's \(m["image_encoder"] ?? "image_encoder")/",
                                       "the prompt names the person as \(m["placeholder"] ?? "S*")"])
        }
        if file.tensorNames.contains(where: { $0.hasPrefix("model.diffusion_model.") }) {
            return WeightsKind(title: "SD1.x single-file checkpoint (\(file.tensorNames.count) tensors; --model FILE)",
                               needs: ["needs --config DIR: a diffusers-layout SD1.x folder for the configs, tokenizer and scheduler"])
        }
        return nil
    }

    static func folder(_ url: URL) -> WeightsKind? {
        let has = { (name: String) in FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path) }
        if has("resnet.json"), has("landmarks.json") {
            return WeightsKind(title: "dlib face recognition + 5-point landmarks (identity score)",
                               needs: ["used as --face-scorer DIR (generate, sweep, ui, face-match)", "needs the face detector (Models/face-detector)"])
        }
        guard let data = try? Data(contentsOf: url.appendingPathComponent("config.json")),
              let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        let architectures = (config["architectures"] as? [String] ?? []) + [config["architecture"] as? String, config["_class_name"] as? String].compactMap { $0 }
        if architectures.contains("IResNet") {
            let size = config["embedding_size"].map { "\($0)-d" } ?? "?-d"
            return WeightsKind(title: "ArcFace (insightface IResNet, \(size) embedding) for IP-Adapter FaceID",
                               needs: ["used as photoverse face-embedding --arcface DIR PHOTO -o FILE, then generate --face-embedding FILE",
                                       "needs the face detector (Models/face-detector; the face mesh too if present) and an adapter whose FaceID projection takes \(size) embeddings (512 for insightface's packs)"])
        }
        if architectures.contains("AutoencoderTiny") {
            let channels = config["latent_channels"].map { "\($0)" } ?? "?"
            return WeightsKind(title: "TAESD tiny autoencoder (diffusers AutoencoderTiny, \(channels) latent channels)",
                               needs: ["used as --taesd DIR, or as the model folder's taesd/ (--decoder taesd, --preview taesd)",
                                       "needs a model with \(channels) latent channels and 8 pixels per latent (SD1.x)"])
        }
        if architectures.contains(where: { $0.hasPrefix("CLIPVision") }) {
            let processor = has("preprocessor_config.json") ? "its preprocessor_config.json (here)" : "its preprocessor_config.json (missing)"
            let width = config["hidden_size"].map { "\($0)" } ?? "?", projection = config["projection_dim"].map { "\($0)" } ?? "none"
            return WeightsKind(title: "CLIP image encoder (\(architectures.joined(separator: ", ")), width \(width), projection \(projection))",
                               needs: ["used as --image-encoder DIR with an adapter (IP-Adapter plain, Plus, Full-Face, FaceID-Plus; PhotoVerse) and --reference PHOTO",
                                       "needs \(processor) and an adapter made for this encoder's width (the plain IP-Adapter: its projection)"])
        }
        if architectures.contains("BlazeFace") {
            return WeightsKind(title: "BlazeFace face detector", needs: ["used when found as Models/face-detector (the working directory, the executable's folders, the checkout)"])
        }
        if architectures.contains("FaceMesh") {
            return WeightsKind(title: "MediaPipe face mesh", needs: ["used when found as Models/face-mesh or $PHOTOVERSE_FACE_MESH", "needs the face detector"])
        }
        return nil
    }
}
