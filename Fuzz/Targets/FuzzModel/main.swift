import Foundation
import Formats
import FuzzSupport
import Models
import TensorCore

/// A config that passes `validate(file:)` must build and run: the same inputs as fuzz-config
/// (first byte: the type; the rest: the JSON), and for every small enough valid UNet, VAE, CLIP
/// text or vision encoder or face detector config, the model is built with random weights and
/// run once on a minimal input. A trap here means validation let through a value the model
/// code cannot take.
/// Small enough to build and run in a few milliseconds.
func small(_ values: [Int], max: Int = 64) -> Bool { values.allSatisfy { $0 <= max } }

func fuzzModel(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let input = ConfigInput(FuzzCheck.data(start, count)) else { return 0 }
    let json = input.json
    do {
        switch input.kind {
        case .unet:
            let c = try JSONConfig.decode(UNetConfig.self, from: json, file: "unet/config.json", decoder: ConfigInput.decoder())
            guard small(c.blockOutChannels + [c.inChannels, c.outChannels, c.crossAttentionDim]), c.blockOutChannels.count <= 3,
                  c.layersPerBlock <= 2, c.transformerLayersPerBlock <= 2 else { return 0 }
            let unet = try UNet2DConditionModel(config: c, weights: WeightLoader(randomSeed: 1).root)
            let side = 3  // odd: the up path meets skips of 2x-1 (any latent side runs)
            let out = unet(Tensor(shape: [1, c.inChannels, side, side], repeating: 0.5), timestep: 10,
                           encoderHiddenStates: Tensor(shape: [1, 3, c.crossAttentionDim], repeating: 0.1))
            FuzzCheck.expect(out.shape == [1, c.outChannels, side, side], "model", "unet output \(out.shape)")
        case .vae:
            let c = try JSONConfig.decode(VAEConfig.self, from: json, file: "vae/config.json", decoder: ConfigInput.decoder())
            guard small(c.blockOutChannels + [c.latentChannels]), c.blockOutChannels.count <= 3, c.layersPerBlock <= 2 else { return 0 }
            let vae = try AutoencoderKL(config: c, weights: WeightLoader(randomSeed: 2).root)
            let side = c.downscale
            let (mean, _) = vae.encode(Tensor(shape: [1, 3, side, side], repeating: 0.2))
            FuzzCheck.expect(mean.shape == [1, c.latentChannels, 1, 1], "model", "vae latents \(mean.shape)")
            let image = vae.decode(mean)
            FuzzCheck.expect(image.shape == [1, 3, side, side], "model", "vae image \(image.shape)")
        case .clipText:
            let c = try JSONConfig.decode(CLIPTextConfig.self, from: json, file: "text_encoder/config.json", decoder: ConfigInput.decoder())
            guard small([c.hiddenSize, c.intermediateSize], max: 128), c.numHiddenLayers <= 2, c.vocabSize <= 4096,
                  c.maxPositionEmbeddings <= 128 else { return 0 }
            let text = try CLIPTextModel(config: c, weights: WeightLoader(randomSeed: 3).root)
            let ids = [c.bosTokenId] + Array(repeating: c.padTokenId, count: 75) + [c.eosTokenId]
            let out = text([ids])
            FuzzCheck.expect(out.shape == [1, 77, c.hiddenSize], "model", "text states \(out.shape)")
        case .clipVision:
            let c = try JSONConfig.decode(CLIPVisionConfig.self, from: json, file: "image_encoder/config.json", decoder: ConfigInput.decoder())
            guard small([c.hiddenSize, c.intermediateSize, c.projectionDim], max: 128), c.numHiddenLayers <= 3,
                  c.imageSize <= 64 else { return 0 }
            let vision = try CLIPVisionModel(config: c, weights: WeightLoader(randomSeed: 4).root, withProjection: true)
            let pixels = Tensor(shape: [1, 3, c.imageSize, c.imageSize], repeating: 0.1)
            let states = vision.hiddenStates(pixels, layers: [-1, 0, c.numHiddenLayers])
            FuzzCheck.expect(states.count == 3 && states.allSatisfy { $0.shape == [1, c.sequenceLength, c.hiddenSize] },
                             "model", "vision states \(states.map(\.shape))")
            _ = vision.imageEmbeddings(pixels)
        case .faceDetector:
            let c = try JSONConfig.decode(FaceDetectorConfig.self, from: json, file: "face-detector/config.json", decoder: ConfigInput.decoder())
            guard c.inputSize <= 128, c.blocks.allSatisfy({ $0.outChannels <= 96 }), c.blocks.count <= 16 else { return 0 }
            let network = try BlazeFaceNetwork(WeightLoader(randomSeed: 5).root, config: c)
            let (scores, regressors) = network(Tensor(shape: [1, 3, c.inputSize, c.inputSize]))
            let anchors = SSDAnchors.generate(c.anchors)
            _ = DetectionDecoder.decode(scores: scores, regressors: regressors, anchors: anchors, options: c.decoding,
                                        minScore: -.infinity)
        case .scheduler:
            return 0   // fuzz-config runs the samplers
        }
    } catch {
        FuzzCheck.clearError(error, "model \(input.kind)")
    }
    return 0
}

FuzzCheck.run(fuzzModel)
