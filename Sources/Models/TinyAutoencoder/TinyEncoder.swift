import TensorCore

/// diffusers' `EncoderTiny`: image [N, 3, H, W] in [-1, 1] → latents [N, latent, H/f, W/f].
/// `layers` is one Sequential: per level a convolution (stride 2 and no bias after the first
/// level) and its blocks, then a last convolution to the latent channels.
struct TinyEncoder {
    enum Layer {
        case conv(Conv2d)
        case block(TinyAutoencoderBlock)
    }

    let layers: [Layer]

    init(_ path: WeightPath, config: TinyAutoencoderConfig, activation: Activation) throws {
        let widths = config.encoderBlockOutChannels
        var layers: [Layer] = []
        func next() -> WeightPath { path("layers")(layers.count) }
        for (level, width) in widths.enumerated() {
            layers.append(.conv(level == 0
                ? try Conv2d(next(), in: config.inChannels, out: width, kernel: 3, padding: 1)
                : try Conv2d(next(), in: width, out: width, kernel: 3, stride: 2, padding: 1, bias: false)))
            for _ in 0..<config.numEncoderBlocks[level] {
                layers.append(.block(try TinyAutoencoderBlock(next(), channels: width, activation: activation)))
            }
        }
        layers.append(.conv(try Conv2d(next(), in: widths.last!, out: config.latentChannels, kernel: 3, padding: 1)))
        self.layers = layers
    }

    func callAsFunction(_ image: Tensor, stop: StopFlag?) throws -> Tensor {
        // TAESD works on images in [0, 1].
        var h = image.map { ($0 + 1) / 2 }
        for layer in layers {
            switch layer {
            case .conv(let conv): h = conv(h)
            case .block(let block): h = block(h)
            }
            try stop?.check()
        }
        return h
    }
}
