import Foundation
import Formats
import TensorCore

/// The personalization weights on top of a frozen SD1.x model, from one safetensors file:
///
/// - the project's own layout (`format` = `photoverse-adapter`): `text_adapter.*` (pseudo-words),
///   `image_adapter.*` (image tokens), and for each attn2 at path P `unet.P.to_k_ip/to_v_ip.weight`
///   and `unet.P.to_k/to_v.lora_A/lora_B.weight`; either adapter may be absent (an ELITE file
///   converted by training/convert_elite.py has only the text adapter);
/// - IP-Adapter SD1.5 (`image_proj.*`, `ip_adapter.{i}.to_k_ip/to_v_ip.weight`): image branch only,
///   fed by the CLIP image embedding instead of per-layer features.
public struct PhotoVerseAdapter {
    public enum Layout: String { case photoverse, ipAdapter = "ip-adapter" }

    public let layout: Layout
    public let metadata: AdapterMetadata
    public let textAdapter: MultiAdapter?
    public let imageAdapter: MultiAdapter?
    public let imageProjection: ImageProjection?
    /// Per attn2 weight path.
    public let layers: [String: CrossAttentionAdapter]
    public let origin: String

    public var hasTextBranch: Bool { textAdapter != nil }
    public var hasImageBranch: Bool { imageAdapter != nil || imageProjection != nil }
    public var loraRank: Int { layers.values.compactMap { $0.keyLoRA?.rank ?? $0.valueLoRA?.rank }.first ?? 0 }

    /// Loads `url` for `unet` (its attn2 paths and widths). Every tensor must be used and
    /// have the shape the UNet needs; problems are reported by name in one line.
    public static func load(_ url: URL, for unet: UNet2DConditionModel) throws -> PhotoVerseAdapter {
        let file = try SafetensorsFile(url: url)
        let source = try SafetensorsWeightSource(url: url)
        let loader = WeightLoader(source: source)
        let names = Set(source.tensorNames)
        let adapter: PhotoVerseAdapter
        if names.contains(where: { $0.hasPrefix("ip_adapter.") || $0.hasPrefix("image_proj.") }) {
            adapter = try ipAdapter(loader.root, unet: unet, origin: url.path)
        } else if file.metadata["format"] == AdapterMetadata.formatName
                    || names.contains(where: { $0.hasPrefix("text_adapter.") || $0.hasPrefix("image_adapter.") }) {
            let metadata = try AdapterMetadata(file.metadata, file: url.path)
            adapter = try photoverse(loader.root, metadata: metadata, unet: unet, origin: url.path)
        } else {
            throw ModelError.invalidInput("\(url.path): not an adapter file (no text_adapter.*, image_adapter.*, "
                                          + "image_proj.* or ip_adapter.* tensors)")
        }
        try loader.finish()
        return adapter
    }

    /// The project's layout; widths, layer count and LoRA rank come from the stored shapes.
    static func photoverse(_ root: WeightPath, metadata: AdapterMetadata, unet: UNet2DConditionModel,
                           origin: String) throws -> PhotoVerseAdapter {
        func multi(_ name: String) throws -> MultiAdapter? {
            let path = root(name)
            guard let widths = MultiAdapter.storedWidths(path) else { return nil }
            guard widths.out == unet.config.crossAttentionDim else {
                throw ModelError.invalidInput("\(origin): \(name) produces \(widths.out)-wide tokens but the UNet "
                                              + "attends to \(unet.config.crossAttentionDim)")
            }
            return try MultiAdapter(path, layers: MultiAdapter.storedLayerCount(path), in: widths.in,
                                    hidden: widths.hidden, out: widths.out)
        }
        let text = try multi("text_adapter"), image = try multi("image_adapter")
        for (name, branch) in [("text_adapter", text), ("image_adapter", image)] {
            if let branch, branch.layerCount != metadata.encoderLayers.count {
                throw ModelError.invalidInput("\(origin): \(name) maps \(branch.layerCount) layers but metadata "
                                              + "encoder_layers lists \(metadata.encoderLayers.count)")
            }
        }
        var layers: [String: CrossAttentionAdapter] = [:]
        for (path, width) in zip(unet.crossAttentionPaths, unet.crossAttentionWidths) {
            let p = root("unet")
            let base = path.split(separator: ".").reduce(p) { $0(String($1)) }
            let adapter = try attentionAdapter(base, width: width, context: unet.config.crossAttentionDim)
            if adapter.imageKey != nil || adapter.keyLoRA != nil || adapter.valueLoRA != nil { layers[path] = adapter }
        }
        return PhotoVerseAdapter(layout: .photoverse, metadata: metadata, textAdapter: text, imageAdapter: image,
                                 imageProjection: nil, layers: layers, origin: origin)
    }

    /// IP-Adapter SD1.5: `ip_adapter.{2j+1}` belongs to the j-th attn2 in processor order.
    static func ipAdapter(_ root: WeightPath, unet: UNet2DConditionModel, origin: String) throws -> PhotoVerseAdapter {
        let cross = unet.config.crossAttentionDim
        guard let proj = root("image_proj")("proj").storedShape("weight"), proj.count == 2, proj[0] % cross == 0 else {
            throw ModelError.invalidInput("\(origin): image_proj.proj.weight is missing or not [tokens·\(cross), embed]")
        }
        let projection = try ImageProjection(root("image_proj"), imageEmbedDim: proj[1], crossAttentionDim: cross,
                                             tokens: proj[0] / cross)
        var layers: [String: CrossAttentionAdapter] = [:]
        for (j, (path, width)) in zip(unet.crossAttentionPaths, unet.crossAttentionWidths).enumerated() {
            let p = root("ip_adapter")(2 * j + 1)
            layers[path] = CrossAttentionAdapter(
                imageKey: try Linear(p("to_k_ip"), in: cross, out: width, bias: false),
                imageValue: try Linear(p("to_v_ip"), in: cross, out: width, bias: false),
                keyLoRA: nil, valueLoRA: nil)
        }
        var metadata = AdapterMetadata()
        metadata.encoderLayers = []
        metadata.tokens = projection.tokens
        return PhotoVerseAdapter(layout: .ipAdapter, metadata: metadata, textAdapter: nil, imageAdapter: nil,
                                 imageProjection: projection, layers: layers, origin: origin)
    }

    static func attentionAdapter(_ p: WeightPath, width: Int, context: Int) throws -> CrossAttentionAdapter {
        let hasImage = p("to_k_ip").storedShape("weight") != nil || p("to_v_ip").storedShape("weight") != nil
        func lora(_ name: String) throws -> LoRA? {
            guard let a = p(name)("lora_A").storedShape("weight"), a.count == 2 else { return nil }
            return try LoRA(p(name), in: context, out: width, rank: a[0])
        }
        return CrossAttentionAdapter(
            imageKey: hasImage ? try Linear(p("to_k_ip"), in: context, out: width, bias: false) : nil,
            imageValue: hasImage ? try Linear(p("to_v_ip"), in: context, out: width, bias: false) : nil,
            keyLoRA: try lora("to_k"), valueLoRA: try lora("to_v"))
    }
}
