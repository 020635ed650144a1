import Foundation
import TensorCore

/// diffusers' `DecoderTiny`: latents [N, latent, h, w] → image [N, 3, h·f, w·f] in about [-1, 1].
/// `layers` is one Sequential: a convolution and the activation, then per level its blocks, a
/// nearest upsampling (all levels but the last) and a convolution (biased only on the last level,
/// which makes the RGB image). Parameterless layers keep their index, so the weight names count them.
struct TinyDecoder {
    enum Layer {
        case conv(Conv2d)
        case activation(Activation)
        case block(TinyAutoencoderBlock)
        case upsample(Int)
    }

    let layers: [Layer]

    init(_ path: WeightPath, config: TinyAutoencoderConfig, activation: Activation) throws {
        let widths = config.decoderBlockOutChannels
        var layers: [Layer] = []
        func next() -> WeightPath { path("layers")(layers.count) }
        layers.append(.conv(try Conv2d(next(), in: config.latentChannels, out: widths[0], kernel: 3, padding: 1)))
        layers.append(.activation(activation))
        for (level, width) in widths.enumerated() {
            let isLast = level == widths.count - 1
            for _ in 0..<config.numDecoderBlocks[level] {
                layers.append(.block(try TinyAutoencoderBlock(next(), channels: width, activation: activation)))
            }
            if !isLast { layers.append(.upsample(config.upsamplingScalingFactor)) }
            layers.append(.conv(try Conv2d(next(), in: width, out: isLast ? config.outChannels : width,
                                           kernel: 3, padding: 1, bias: isLast)))
        }
        self.layers = layers
    }

    func callAsFunction(_ latents: Tensor, stop: StopFlag?) throws -> Tensor {
        // A soft clamp of the input to (-3, 3), as TAESD was trained.
        var h = latents.map { tanhf($0 / 3) * 3 }
        for layer in layers {
            switch layer {
            case .conv(let conv): h = conv(h)
            case .activation(let activation): h = TinyAutoencoderBlock.activated(h, activation)   // after a conv: fresh
            case .block(let block): h = block(h)
            case .upsample(let factor): h = h.upsampleNearest(height: factor * h.shape[2], width: factor * h.shape[3])
            }
            try stop?.check()
        }
        // TAESD's [0, 1] image to diffusers' [-1, 1], in the last convolution's fresh output.
        let values = h.data
        Parallel.forRanges(h.count) { range in for i in range { values[i] = values[i] * 2 - 1 } }
        return h
    }
}
