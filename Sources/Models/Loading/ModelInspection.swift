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
        return [
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
    }
}
