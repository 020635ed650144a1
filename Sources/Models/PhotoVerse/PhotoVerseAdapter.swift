import Foundation
import Formats
import TensorCore

/// The personalization weights on top of a frozen SD1.x model, from one safetensors file:
///
/// - the project's own layout (`format` = `photoverse-adapter`): `text_adapter.*` (pseudo-words),
///   `image_adapter.*` (image tokens), and for each attn2 at path P `unet.P.to_k_ip/to_v_ip.weight`
///   and `unet.P.to_k/to_v.lora_A/lora_B.weight`; either adapter may be absent (an ELITE file
///   converted by training/convert_elite.py has only the text adapter);
/// - IP-Adapter SD1.5, every variant (`IPAdapterVariant`), in its published layout (`image_proj.*`,
///   `ip_adapter.{i}.to_k_ip/to_v_ip.weight`) or diffusers' (`encoder_hid_proj.*`, `*.processor.to_k_ip.0`):
///   image branch only, fed by the CLIP encoder and/or an ArcFace embedding instead of per-layer features.
public struct PhotoVerseAdapter {
    public enum Layout: String { case photoverse, ipAdapter = "ip-adapter" }

    public let layout: Layout
    public let metadata: AdapterMetadata
    public let textAdapter: MultiAdapter?
    public let imageAdapter: MultiAdapter?
    /// IP-Adapter's image projection (nil for the PhotoVerse layout) and what the file is.
    public let ipAdapter: IPAdapterProjection?
    public let ipAdapterKind: IPAdapterKind?
    /// FaceID's LoRA on the UNet's attention, carried in its published file (`ip_adapter.{k}.to_*_lora`),
    /// checked against the UNet's layers; runs with the adapter add it (`addCompanionLoRA`).
    public let companionLoRA: [IPAdapterLoRAUpdate]
    /// Per attn2 weight path.
    public let layers: [String: CrossAttentionAdapter]
    public let origin: String

    public var hasTextBranch: Bool { textAdapter != nil }
    public var hasImageBranch: Bool { imageAdapter != nil || ipAdapter != nil }
    /// The plain IP-Adapter's projection, nil for the other variants and layouts.
    public var imageProjection: ImageProjection? {
        if case .plain(let projection) = ipAdapter { return projection }
        return nil
    }
    public var loraRank: Int { layers.values.compactMap { $0.keyLoRA?.rank ?? $0.valueLoRA?.rank }.first ?? 0 }

    /// Loads `url` for `unet` (its attn2 paths and widths). Every tensor must be used and
    /// have the shape the UNet needs; problems are reported by name in one line.
    public static func load(_ url: URL, for unet: UNet2DConditionModel) throws -> PhotoVerseAdapter {
        let file = try SafetensorsFile(url: url)
        let source = try SafetensorsWeightSource(url: url)
        let loader = WeightLoader(source: source)
        let names = Set(source.tensorNames)
        let adapter: PhotoVerseAdapter
        if let kind = try IPAdapterKind.recognise(names, shape: source.shape(of:), file: url.path) {
            adapter = try ipAdapter(loader.root, kind: kind, unet: unet, origin: url.path)
        } else if file.metadata["format"] == AdapterMetadata.formatName
                    || names.contains(where: { $0.hasPrefix("text_adapter.") || $0.hasPrefix("image_adapter.") }) {
            let metadata = try AdapterMetadata(file.metadata, file: url.path)
            adapter = try photoverse(loader.root, metadata: metadata, unet: unet, origin: url.path)
        } else {
            throw ModelError.invalidInput("\(url.path): not an adapter file (no text_adapter.*, image_adapter.*, "
                                          + "image_proj.*, ip_adapter.* or encoder_hid_proj.* tensors)")
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
                                 ipAdapter: nil, ipAdapterKind: nil, companionLoRA: [], layers: layers, origin: origin)
    }

    /// IP-Adapter SD1.5, any variant. Published: `ip_adapter.{k}` counts every attention processor
    /// (attn1 even, attn2 odd), so the j-th attn2 is `ip_adapter.{2j+1}`; diffusers: `<attn2>.processor.to_k_ip.0`.
    static func ipAdapter(_ root: WeightPath, kind: IPAdapterKind, unet: UNet2DConditionModel,
                          origin: String) throws -> PhotoVerseAdapter {
        let cross = unet.config.crossAttentionDim
        let projection = try IPAdapterProjection.load(root, kind: kind, crossAttentionDim: cross, origin: origin)
        var layers: [String: CrossAttentionAdapter] = [:]
        var lora: [IPAdapterLoRAUpdate] = []
        for (j, (path, width)) in zip(unet.crossAttentionPaths, unet.crossAttentionWidths).enumerated() {
            let projection: (String) -> WeightPath
            if kind.layout == .published {
                let p = root("ip_adapter")(2 * j + 1)
                projection = { p($0) }
                let selfAttention = path.hasSuffix("attn2") ? String(path.dropLast()) + "1" : path
                lora += try companionLoRA(root("ip_adapter")(2 * j), target: selfAttention, unet: unet, origin: origin)
                lora += try companionLoRA(p, target: path, unet: unet, origin: origin)
            } else {
                let p = path.split(separator: ".").reduce(root) { $0(String($1)) }("processor")
                projection = { p($0)("0") }
            }
            layers[path] = CrossAttentionAdapter(
                imageKey: try Linear(projection("to_k_ip"), in: cross, out: width, bias: false),
                imageValue: try Linear(projection("to_v_ip"), in: cross, out: width, bias: false),
                keyLoRA: nil, valueLoRA: nil)
        }
        var metadata = AdapterMetadata()
        metadata.encoderLayers = []
        if case .plain(let plain) = projection { metadata.tokens = plain.tokens }
        return PhotoVerseAdapter(layout: .ipAdapter, metadata: metadata, textAdapter: nil, imageAdapter: nil,
                                 ipAdapter: projection, ipAdapterKind: kind, companionLoRA: lora, layers: layers, origin: origin)
    }

    /// The `to_{q,k,v,out}_lora.{down,up}` of one attention processor in a FaceID file, with the
    /// Linear each updates; none when the file has no LoRA there. The factors must fit that Linear.
    static func companionLoRA(_ p: WeightPath, target attention: String, unet: UNet2DConditionModel,
                              origin: String) throws -> [IPAdapterLoRAUpdate] {
        try [("to_q", "to_q"), ("to_k", "to_k"), ("to_v", "to_v"), ("to_out", "to_out.0")].compactMap { name, linear in
            let lora = p("\(name)_lora")
            // A half-stored pair is left unread: the loader then names it as unexpected.
            guard let down = lora("down").storedShape("weight"), down.count == 2,
                  let up = lora("up").storedShape("weight"), up.count == 2, up[1] == down[0] else {
                return nil
            }
            let target = "\(attention).\(linear)"
            guard let layer = unet.loraTargets.layers[target], !layer.isConvolution else {
                throw ModelError.invalidInput("\(origin): '\(lora("down").prefix).weight' adapts \(target), which this UNet lacks")
            }
            // Read with the layer's widths: a factor of another shape is refused by name.
            return IPAdapterLoRAUpdate(target: target, down: try lora("down").tensor("weight", [down[0], layer.inFeatures]),
                                       up: try lora("up").tensor("weight", [layer.outFeatures, down[0]]))
        }
    }

    /// Adds FaceID's companion LoRA to a run's UNet deltas at weight 1, what diffusers'
    /// `load_ip_adapter` does (`set_adapters(["faceid_0"], adapter_weights=[1.0])`).
    public func addCompanionLoRA(to deltas: inout LayerDeltas) {
        for update in companionLoRA {
            deltas.add(LowRankDelta(down: update.down, up: update.up, scale: 1), to: update.target)
        }
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
