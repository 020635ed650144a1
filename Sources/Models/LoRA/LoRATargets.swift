/// The layers of one component (the UNet or the text encoder) that a LoRA file may adapt,
/// found under the names files give them: the module name (diffusers/peft files,
/// `down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q`) or kohya's spelling of it
/// (`lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q`). kohya's names
/// replace every `.` by `_`, which cannot be undone by rule (`to_q`, `proj_in`, ...), so they
/// are matched against the model's own layers spelled the same way (what kohya's scripts do).
/// Some kohya tools name SD1.x UNet layers by the original CompVis/LDM modules instead
/// (`lora_unet_input_blocks_1_1_proj_in`, `..._middle_block_0_in_layers_2`): those spellings
/// (`originalNames`) are matched the same way.
public struct LoRATargets {
    /// By module name within the component.
    public let layers: [String: AdaptableLayer]
    /// The start of kohya names for this component (`lora_unet_`, `lora_te_text_model_`).
    public let kohyaPrefix: String
    /// A level some files put before the module names and others leave out (`text_model.`).
    let optionalPrefix: String?
    private let kohyaNames: [String: String]

    /// `originalNames`: module name → its original-layout name, where a model has those.
    public init(layers: [String: AdaptableLayer], kohyaPrefix: String, optionalPrefix: String? = nil,
                originalNames: [String: String] = [:]) {
        self.layers = layers
        self.kohyaPrefix = kohyaPrefix
        self.optionalPrefix = optionalPrefix
        var kohya: [String: String] = [:]
        for name in layers.keys {
            kohya[name.replacingOccurrences(of: ".", with: "_")] = name
            if let original = originalNames[name] { kohya[original.replacingOccurrences(of: ".", with: "_")] = name }
        }
        kohyaNames = kohya
    }

    /// The layer a diffusers/peft module name means.
    func layer(moduleName: String) -> (name: String, layer: AdaptableLayer)? {
        var name = moduleName
        if let optionalPrefix, name.hasPrefix(optionalPrefix) { name.removeFirst(optionalPrefix.count) }
        return layers[name].map { (name, $0) }
    }

    /// The layer a kohya name (after `kohyaPrefix`) means.
    func layer(kohyaName: String) -> (name: String, layer: AdaptableLayer)? {
        kohyaNames[kohyaName].flatMap { name in layers[name].map { (name, $0) } }
    }
}
