import TensorCore

/// AutoencoderKL's encoder: image [N,3,H,W] → moments [N, 2·latent, H/f, W/f].
struct VAEEncoder {
    let convIn: Conv2d
    let blocks: [(resnets: [ResnetBlock2D], downsampler: Downsample2D?)]
    let mid: VAEMidBlock
    let normOut: GroupNorm
    let convOut: Conv2d

    init(_ path: WeightPath, config: VAEConfig) throws {
        let ch = config.blockOutChannels, g = config.normNumGroups
        convIn = try Conv2d(path("conv_in"), in: config.inChannels, out: ch[0], kernel: 3, padding: 1)
        blocks = try ch.indices.map { i in
            let block = path("down_blocks")(i)
            let resnets = try (0..<config.layersPerBlock).map {
                try ResnetBlock2D(block("resnets")($0), in: $0 == 0 ? ch[max(i - 1, 0)] : ch[i], out: ch[i],
                                  timeChannels: nil, groups: g, eps: 1e-6)
            }
            let down = i == ch.count - 1 ? nil
                : try Downsample2D(block("downsamplers")(0), channels: ch[i], asymmetricPadding: true)
            return (resnets, down)
        }
        mid = try VAEMidBlock(path("mid_block"), channels: ch.last!, groups: g)
        normOut = try GroupNorm(path("conv_norm_out"), groups: g, channels: ch.last!, eps: 1e-6)
        convOut = try Conv2d(path("conv_out"), in: ch.last!, out: 2 * config.latentChannels, kernel: 3, padding: 1)
    }

    func callAsFunction(_ x: Tensor, stop: StopFlag?) throws -> Tensor {
        var h = convIn(x)
        for block in blocks {
            for resnet in block.resnets {
                h = resnet(h)
                try stop?.check()
            }
            if let down = block.downsampler {
                h = down(h)
                try stop?.check()
            }
        }
        return convOut(normOut(try mid(h, stop: stop), silu: true))
    }
}
