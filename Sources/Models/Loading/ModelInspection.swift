import Foundation
import Formats
import Tokenizer

/// A per-component summary of a model folder for `photoverse inspect`.
public struct ComponentSummary {
    public let name: String
    public let config: String
    public let parameters: Int
    public let dtypes: [String: Int]   // dtype → tensor count
    public let problems: [String]

    public init(name: String, config: String, parameters: Int, dtypes: [String: Int], problems: [String]) {
        self.name = name
        self.config = config
        self.parameters = parameters
        self.dtypes = dtypes
        self.problems = problems
    }
}

extension ModelFolder {
    /// Builds each component to check every weight by name, shape and value (NaN/Inf), and
    /// every config through the same `validate(file:)` loading uses; problems are collected,
    /// not thrown, so one run reports them all.
    public func inspect() -> [ComponentSummary] {
        func summarise(_ name: String, describe: () throws -> (String, WeightLoader)) -> ComponentSummary {
            do {
                let (config, loader) = try describe()
                var problems = loader.problems.map(\.description)
                problems += loader.unused(under: "").map { "unexpected \($0.terminalSafe)" }
                let source = loader.source as? SafetensorsWeightSource
                var dtypes: [String: Int] = [:]
                for dtype in (source?.dtypes ?? [:]).values { dtypes[dtype, default: 0] += 1 }
                return ComponentSummary(name: name, config: config, parameters: loader.parameterCount, dtypes: dtypes,
                                        problems: problems)
            } catch {
                return ComponentSummary(name: name, config: "-", parameters: 0, dtypes: [:], problems: ["\(error)"])
            }
        }
        func checkingLoader(_ component: String) throws -> WeightLoader {
            let loader = WeightLoader(source: try weights(of: component))
            loader.checksFiniteValues = true
            return loader
        }
        var textConfig: CLIPTextConfig?
        var unet: UNet2DConditionModel?
        var summaries = [
            summarise("text_encoder") {
                let c = try config(CLIPTextConfig.self, of: "text_encoder")
                textConfig = c
                let loader = try checkingLoader("text_encoder")
                _ = try CLIPTextModel(config: c, weights: loader.root)
                return ("CLIP text: \(c.numHiddenLayers) layers, width \(c.hiddenSize), \(c.numAttentionHeads) heads, vocab \(c.vocabSize)", loader)
            },
        ]
        summaries.append(inspectTokenizer(textConfig: textConfig))
        summaries += [
            summarise("unet") {
                let c = try config(UNetConfig.self, of: "unet")
                let loader = try checkingLoader("unet")
                unet = try UNet2DConditionModel(config: c, weights: loader.root)
                return ("UNet: channels \(c.blockOutChannels), \(c.layersPerBlock) layers/block, heads \(c.attentionHeads), cross-attention \(c.crossAttentionDim)", loader)
            },
            summarise("vae") {
                let c = try config(VAEConfig.self, of: "vae")
                let loader = try checkingLoader("vae")
                _ = try AutoencoderKL(config: c, weights: loader.root)
                return ("AutoencoderKL: channels \(c.blockOutChannels), \(c.latentChannels) latent channels, factor \(c.downscale), scale \(c.scalingFactor)", loader)
            },
        ]
        if hasImageEncoder {
            summaries.append(summarise("image_encoder") {
                let c = try config(CLIPVisionConfig.self, of: "image_encoder")
                let loader = try checkingLoader("image_encoder")
                let withProjection = loader.source?.shape(of: "visual_projection.weight") != nil
                _ = try CLIPVisionModel(config: c, weights: loader.root, withProjection: withProjection)
                return ("CLIP vision: \(c.numHiddenLayers) layers, width \(c.hiddenSize), \(c.imageSize)px, patch \(c.patchSize)", loader)
            })
        }
        if Self.tinyAutoencoderFolder(in: url) != nil {
            summaries.append(summarise(AutoencoderTiny.folderName) {
                let c = try config(TinyAutoencoderConfig.self, of: AutoencoderTiny.folderName)
                let loader = try checkingLoader(AutoencoderTiny.folderName)
                _ = try AutoencoderTiny(config: c, weights: loader.root)
                return ("AutoencoderTiny (TAESD): width \(c.decoderBlockOutChannels[0]), \(c.latentChannels) latent channels, factor \(c.upscale), scale \(c.scalingFactor)", loader)
            })
        }
        if let adapterFile {
            summaries.append(summarise(Self.adapterFileName) {
                // Checked against the UNet built above from the folder's own weights (never a
                // random one: that would allocate the whole model for a look at the adapter).
                guard let unet else {
                    throw ModelError.invalidInput("not checked: the unet did not load (see above)")
                }
                let adapter = try PhotoVerseAdapter.load(adapterFile, for: unet)
                let source = try SafetensorsWeightSource(url: adapterFile)
                let loader = WeightLoader(source: source)
                loader.checksFiniteValues = true
                for name in source.tensorNames.sorted() {
                    if let shape = source.shape(of: name) { _ = try loader.load(name, shape: shape, fill: nil) }
                }
                if let kind = adapter.ipAdapterKind {
                    let lora = adapter.companionLoRA.isEmpty ? "" : ", companion LoRA (\(adapter.companionLoRA.count) updates, applied at scale 1)"
                    return ("\(kind.variant.title), \(kind.layout.rawValue) layout, \(adapter.layers.count) attn2 layers\(lora); needs \(kind.variant.needs)", loader)
                }
                let m = adapter.metadata
                let branches = [adapter.hasTextBranch ? "text" : nil, adapter.hasImageBranch ? "image" : nil].compactMap { $0 }
                return ("\(adapter.layout.rawValue) adapter: branches \(branches.joined(separator: "+")), encoder layers \(m.encoderLayers), m \(m.tokens), LoRA rank \(adapter.loraRank), \(adapter.layers.count) attn2 layers", loader)
            })
        }
        return summaries
    }

    /// The tokenizer's files, and its ids against the text encoder's vocab_size.
    func inspectTokenizer(textConfig: CLIPTextConfig?) -> ComponentSummary {
        do {
            let tokenizer = try CLIPTokenizer(folder: component("tokenizer"))
            var problems: [String] = []
            if let textConfig {
                do {
                    try textConfig.validate(tokenizer: tokenizer, file: textConfigURL.path)
                } catch {
                    problems.append("\(error)")
                }
            }
            return ComponentSummary(name: "tokenizer",
                                    config: "CLIP BPE: \(tokenizer.vocabularySize) tokens, \(tokenizer.mergeCount) merges",
                                    parameters: 0, dtypes: [:], problems: problems)
        } catch {
            return ComponentSummary(name: "tokenizer", config: "-", parameters: 0, dtypes: [:], problems: ["\(error)"])
        }
    }
}
