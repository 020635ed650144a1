import Foundation
import Formats
import TensorCore

/// A LoRA file for SD1.x, read into per-layer low-rank factors, in either layout people have:
///
/// - kohya-ss / A1111: `lora_unet_<module>.lora_down.weight`, `.lora_up.weight` and an
///   optional `.alpha` (the layer's scale is alpha / rank; no alpha means 1), text encoder
///   layers as `lora_te_text_model_<module>`; LoCon files also adapt convolutions (a down
///   convolution with the layer's kernel, then a 1x1 up).
/// - diffusers / peft: `unet.<module>.lora_A.weight` and `.lora_B.weight`,
///   `text_encoder.[text_model.]<module>...` (scale 1, as diffusers loads them without alphas);
///   also the older diffusers names it still reads: `...attn1.processor.to_q_lora.down.weight`,
///   `<module>.lora.up.weight`, `...self_attn.to_k_lora.down.weight`,
///   `...mlp.fc1.lora_linear_layer.up.weight`.
///
/// Every tensor must be understood: a key of another kind, a layer the model lacks, a
/// missing partner, shapes that do not fit the layer, mismatched ranks, non-finite values or
/// two entries for one layer are each refused with one line naming the file and the key
/// (diffusers also refuses kohya keys it cannot rename; it drops DoRA's `dora_scale` with a
/// warning, which would change the result silently, so here DoRA is refused).
public struct LoRAFile {
    public let url: URL
    /// The factors of each adapted layer; `scale` is alpha / rank.
    public struct Layer {
        public let path: String
        public let down: Tensor
        public let up: Tensor
        public let scale: Float
    }
    public let unet: [Layer]
    public let textEncoder: [Layer]

    private enum Component: String { case unet = "UNet", textEncoder = "text encoder" }
    private enum Part { case down, up, alpha }
    /// How the file names its tensors (`diffusers`: diffusers' names before peft).
    public enum Layout: String { case kohya, peft, diffusers }

    /// One layer's tensors as the file names them, until all are read.
    private struct Entry {
        var down: String?, up: String?, alpha: String?
        let layer: AdaptableLayer
        let component: Component
        let layout: Layout
    }

    public init(url: URL, unet unetTargets: LoRATargets, textEncoder textTargets: LoRATargets) throws {
        self.url = url
        let file = url.path
        if ["ckpt", "pt", "pth", "bin"].contains(url.pathExtension.lowercased()) {
            throw ModelError.invalidInput("\(file.terminalSafe): pickled LoRA files are never loaded; convert to safetensors with training/convert_checkpoint.py")
        }
        let reader = try SafetensorsFile(url: url)
        func refuse(_ key: String, _ problem: String) -> ModelError {
            .invalidInput("\(file.terminalSafe): '\(key.terminalSafe)' \(problem)")
        }
        var entries: [String: Entry] = [:]   // by component and module name
        for key in reader.tensorNames {
            if key.hasSuffix(".dora_scale") {
                throw refuse(key, "is a DoRA magnitude: DoRA files are not supported (diffusers drops these tensors, which changes the result)")
            }
            if key.hasPrefix("lora_te1_") || key.hasPrefix("lora_te2_") || key.hasPrefix("text_encoder_2.") {
                throw refuse(key, "belongs to an SDXL LoRA (two text encoders); this engine runs SD1.x")
            }
            guard let (component, module, part, layout) = Self.parse(key) else {
                throw refuse(key, "is not a LoRA tensor of an SD1.x UNet or text encoder (expected lora_unet_*/lora_te_* with .lora_down.weight/.lora_up.weight/.alpha, or unet.*/text_encoder.* with .lora_A.weight/.lora_B.weight or diffusers' older .lora.down.weight/_lora.down.weight/.lora_linear_layer.down.weight)")
            }
            let targets = component == .unet ? unetTargets : textTargets
            let found = layout == .kohya ? targets.layer(kohyaName: module) : targets.layer(moduleName: module)
            guard let (name, layer) = found else {
                throw refuse(key, "names no layer of this model's \(component.rawValue) (\(targets.layers.count) Linear/Conv2d layers; is it a LoRA for another model, SDXL or SD2?)")
            }
            let id = "\(component.rawValue) \(name)"
            var entry = entries[id] ?? Entry(layer: layer, component: component, layout: layout)
            if entry.layout != layout {
                let other = [entry.down, entry.up, entry.alpha].compactMap { $0 }.first ?? ""
                throw refuse(key, "adapts the same layer as '\(other.terminalSafe)' (\(component.rawValue) \(name.terminalSafe)): duplicate names")
            }
            let earlier: String?
            switch part {
            case .down: (earlier, entry.down) = (entry.down, key)
            case .up: (earlier, entry.up) = (entry.up, key)
            case .alpha: (earlier, entry.alpha) = (entry.alpha, key)
            }
            if let earlier {
                throw refuse(key, "adapts the same layer as '\(earlier.terminalSafe)' (\(component.rawValue) \(name.terminalSafe)): duplicate names")
            }
            entries[id] = entry
        }
        guard !entries.isEmpty else {
            throw ModelError.invalidInput("\(file.terminalSafe): no LoRA tensors (the file holds \(reader.tensorNames.count) tensors)")
        }
        var unet: [Layer] = [], text: [Layer] = []
        for (_, entry) in entries.sorted(by: { $0.key < $1.key }) {
            let layer = try Self.read(entry, from: reader, refuse: refuse)
            if entry.component == .unet { unet.append(layer) } else { text.append(layer) }
        }
        self.unet = unet
        textEncoder = text
    }

    /// The component, module name, part and layout a key names; nil for any other key.
    private static func parse(_ key: String) -> (Component, String, Part, Layout)? {
        let kohyaParts: [(String, Part)] = [(".lora_down.weight", .down), (".lora_up.weight", .up), (".alpha", .alpha)]
        for (prefix, component) in [("lora_unet_", Component.unet), ("lora_te_text_model_", .textEncoder)] where key.hasPrefix(prefix) {
            for (suffix, part) in kohyaParts where key.hasSuffix(suffix) {
                let module = key.dropFirst(prefix.count).dropLast(suffix.count)
                return module.contains(".") ? nil : (component, String(module), part, .kohya)
            }
        }
        let diffusersParts: [(String, Part, Layout)] = [
            (".lora_A.weight", .down, .peft), (".lora_B.weight", .up, .peft),
            (".lora.down.weight", .down, .diffusers), (".lora.up.weight", .up, .diffusers),
            (".lora_linear_layer.down.weight", .down, .diffusers), (".lora_linear_layer.up.weight", .up, .diffusers),
            ("_lora.down.weight", .down, .diffusers), ("_lora.up.weight", .up, .diffusers),
        ]
        for (prefix, component) in [("unet.", Component.unet), ("text_encoder.", .textEncoder)] where key.hasPrefix(prefix) {
            for (suffix, part, layout) in diffusersParts where key.hasSuffix(suffix) {
                let module = String(key.dropFirst(prefix.count).dropLast(suffix.count))
                guard suffix.hasPrefix("_lora") else { return (component, module, part, layout) }
                return processorModule(module, component).map { (component, $0, part, layout) }
            }
        }
        return nil
    }

    /// The module an older diffusers attention-processor name means: `...attn1.processor.to_out`
    /// is `...attn1.to_out.0`, a text encoder's `...self_attn.to_q` is `...self_attn.q_proj`.
    private static func processorModule(_ name: String, _ component: Component) -> String? {
        var parts = name.split(separator: ".").map(String.init)
        parts.removeAll { $0 == "processor" }
        guard let last = parts.popLast() else { return nil }
        let renamed: [String: String] = component == .unet
            ? ["to_q": "to_q", "to_k": "to_k", "to_v": "to_v", "to_out": "to_out.0"]
            : ["to_q": "q_proj", "to_k": "k_proj", "to_v": "v_proj", "to_out": "out_proj"]
        return renamed[last].map { (parts + [$0]).joined(separator: ".") }
    }

    /// Reads and checks one layer's factors against the layer they adapt.
    private static func read(_ entry: Entry, from reader: SafetensorsFile,
                             refuse: (String, String) -> ModelError) throws -> Layer {
        let layer = entry.layer
        let (downName, upName): (String, String)
        switch entry.layout {
        case .kohya: (downName, upName) = ("lora_down", "lora_up")
        case .peft: (downName, upName) = ("lora_A", "lora_B")
        case .diffusers: (downName, upName) = ("down", "up")
        }
        guard let downKey = entry.down else {
            throw refuse(entry.up ?? entry.alpha!, "has no \(downName).weight beside it")
        }
        guard let upKey = entry.up else { throw refuse(downKey, "has no \(upName).weight beside it") }
        func finite(_ key: String) throws -> Tensor {
            let tensor = try reader.tensor(key)
            let bad = UnsafeBufferPointer(start: tensor.data, count: tensor.count).filter { !$0.isFinite }.count
            if bad > 0 { throw refuse(key, "holds \(bad) non-finite value\(bad == 1 ? "" : "s") (NaN or Inf)") }
            return tensor
        }
        let down = try finite(downKey), up = try finite(upKey)
        let rank = down.shape.first ?? 0
        guard rank > 0, up.rank >= 2, up.shape[1] == rank else {
            throw refuse(upKey, "has shape \(up.shape) but \(downName) has shape \(down.shape): the ranks (dimension 1 of \(upName), 0 of \(downName)) must match")
        }
        // A Linear takes [rank, in] (or a 1x1 convolution's [rank, in, 1, 1], as kohya stores
        // proj_in/proj_out); a convolution takes [rank, in, k, k] with the layer's kernel.
        let kernel = max(layer.kernel, 1)
        let downShapes = layer.isConvolution ? [[rank, layer.inFeatures, kernel, kernel]] + (kernel == 1 ? [[rank, layer.inFeatures]] : [])
            : [[rank, layer.inFeatures], [rank, layer.inFeatures, 1, 1]]
        guard downShapes.contains(down.shape) else {
            throw refuse(downKey, "has shape \(down.shape); layer \(layer.path.terminalSafe) takes \(downShapes[0]) (in \(layer.inFeatures)\(layer.isConvolution ? ", kernel \(kernel)" : ""))")
        }
        guard up.shape == [layer.outFeatures, rank] || up.shape == [layer.outFeatures, rank, 1, 1] else {
            throw refuse(upKey, "has shape \(up.shape); layer \(layer.path.terminalSafe) takes [\(layer.outFeatures), \(rank)] (out \(layer.outFeatures))")
        }
        var scale: Float = 1
        if let alphaKey = entry.alpha {
            let alpha = try finite(alphaKey)
            guard alpha.count == 1 else { throw refuse(alphaKey, "has shape \(alpha.shape); alpha is one number") }
            scale = alpha.data[0] / Float(rank)
        }
        let downShape = layer.isConvolution ? [rank, layer.inFeatures, kernel, kernel] : [rank, layer.inFeatures]
        let upShape = layer.isConvolution ? [layer.outFeatures, rank, 1, 1] : [layer.outFeatures, rank]
        return Layer(path: layer.path, down: down.reshaped(downShape), up: up.reshaped(upShape), scale: scale)
    }

    /// The run's deltas of several files, each at its own scale (applied in the order given).
    public static func deltas(_ files: [(file: LoRAFile, scale: Float)]) -> (unet: LayerDeltas, textEncoder: LayerDeltas) {
        var unet = LayerDeltas(), text = LayerDeltas()
        for (file, scale) in files where scale != 0 {
            for layer in file.unet {
                unet.add(LowRankDelta(down: layer.down, up: layer.up, scale: scale * layer.scale), to: layer.path)
            }
            for layer in file.textEncoder {
                text.add(LowRankDelta(down: layer.down, up: layer.up, scale: scale * layer.scale), to: layer.path)
            }
        }
        return (unet, text)
    }
}

extension LoRAFile {
    /// What a file holds, from its tensor names and shapes alone (no model): for `inspect`.
    public struct Summary: Equatable {
        /// Several when the file mixes them.
        public let layouts: [Layout]
        public let unetLayers: Int
        public let textEncoderLayers: Int
        /// The down factors' ranks, smallest first.
        public let ranks: [Int]
        /// Layers whose down factor is a k×k convolution with k > 1 (LoCon).
        public let convolutions: Int
        /// Layers with an `alpha` (kohya): their scale is alpha / rank.
        public let alphas: Int
    }

    /// nil when no tensor of `file` is named like a LoRA's.
    public static func summary(of file: SafetensorsFile) -> Summary? {
        var layouts: Set<Layout> = [], unet: Set<String> = [], text: Set<String> = [], ranks: Set<Int> = []
        var convolutions = 0, alphas = 0
        for key in file.tensorNames {
            guard let (component, module, part, layout) = parse(key) else { continue }
            layouts.insert(layout)
            if component == .unet { unet.insert(module) } else { text.insert(module) }
            switch part {
            case .alpha: alphas += 1
            case .up: break
            case .down:
                guard let shape = try? file.info(key).shape, let rank = shape.first else { continue }
                ranks.insert(rank)
                if shape.count == 4, shape[2] > 1 || shape[3] > 1 { convolutions += 1 }
            }
        }
        guard !layouts.isEmpty else { return nil }
        return Summary(layouts: layouts.sorted { $0.rawValue < $1.rawValue }, unetLayers: unet.count, textEncoderLayers: text.count,
                       ranks: ranks.sorted(), convolutions: convolutions, alphas: alphas)
    }
}
