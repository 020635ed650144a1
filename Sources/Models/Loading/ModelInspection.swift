import Foundation

/// A per-component summary of a model folder for `photoverse inspect`.
public struct ComponentSummary {
    public let name: String
    public let config: String
    public let parameters: Int
    public let dtypes: [String: Int]   // dtype → tensor count
    public let problems: [String]
}

extension ModelFolder {
    /// Builds each component to check every weight by name and shape; problems are
    /// collected, not thrown, so one run reports them all.
    public func inspect() -> [ComponentSummary] {
        func summarise(_ name: String, describe: () throws -> (String, WeightLoader)) -> ComponentSummary {
            do {
                let (config, loader) = try describe()
                var problems = loader.problems.map(\.description)
                problems += loader.unused(under: "").map { "unexpected \($0)" }
                let source = loader.source as? SafetensorsWeightSource
                var dtypes: [String: Int] = [:]
                for dtype in (source?.dtypes ?? [:]).values { dtypes[dtype, default: 0] += 1 }
                return ComponentSummary(name: name, config: config, parameters: loader.parameterCount, dtypes: dtypes,
                                        problems: problems)
            } catch {
                return ComponentSummary(name: name, config: "-", parameters: 0, dtypes: [:], problems: ["\(error)"])
            }
        }
        var summaries = [
            summarise("text_encoder") {
                let c = try config(CLIPTextConfig.self, of: "text_encoder")
                let loader = WeightLoader(source: try weights(of: "text_encoder"))
                _ = try CLIPTextModel(config: c, weights: loader.root)
                return ("CLIP text: \(c.numHiddenLayers) layers, width \(c.hiddenSize), \(c.numAttentionHeads) heads, vocab \(c.vocabSize)", loader)
            },
            summarise("unet") {
                let c = try config(UNetConfig.self, of: "unet")
                let loader = WeightLoader(source: try weights(of: "unet"))
                _ = try UNet2DConditionModel(config: c, weights: loader.root)
                return ("UNet: channels \(c.blockOutChannels), \(c.layersPerBlock) layers/block, heads \(c.attentionHeads), cross-attention \(c.crossAttentionDim)", loader)
            },
            summarise("vae") {
                let c = try config(VAEConfig.self, of: "vae")
                let loader = WeightLoader(source: try weights(of: "vae"))
                _ = try AutoencoderKL(config: c, weights: loader.root)
                return ("AutoencoderKL: channels \(c.blockOutChannels), \(c.latentChannels) latent channels, factor \(c.downscale), scale \(c.scalingFactor)", loader)
            },
        ]
        if hasImageEncoder {
            summaries.append(summarise("image_encoder") {
                let c = try config(CLIPVisionConfig.self, of: "image_encoder")
                let loader = WeightLoader(source: try weights(of: "image_encoder"))
                let withProjection = loader.source?.shape(of: "visual_projection.weight") != nil
                _ = try CLIPVisionModel(config: c, weights: loader.root, withProjection: withProjection)
                return ("CLIP vision: \(c.numHiddenLayers) layers, width \(c.hiddenSize), \(c.imageSize)px, patch \(c.patchSize)", loader)
            })
        }
        if let adapterFile {
            summaries.append(summarise(Self.adapterFileName) {
                let unet = try UNet2DConditionModel(config: try config(UNetConfig.self, of: "unet"), weights: WeightLoader(randomSeed: 0).root)
                let adapter = try PhotoVerseAdapter.load(adapterFile, for: unet)
                let loader = WeightLoader(source: try SafetensorsWeightSource(url: adapterFile))
                for name in loader.source!.tensorNames { _ = try loader.load(name, shape: loader.source!.shape(of: name)!, fill: nil) }
                let m = adapter.metadata
                let branches = [adapter.hasTextBranch ? "text" : nil, adapter.hasImageBranch ? "image" : nil].compactMap { $0 }
                return ("\(adapter.layout.rawValue) adapter: branches \(branches.joined(separator: "+")), encoder layers \(m.encoderLayers), m \(m.tokens), LoRA rank \(adapter.loraRank), \(adapter.layers.count) attn2 layers", loader)
            })
        }
        return summaries
    }
}
