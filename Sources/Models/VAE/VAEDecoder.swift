import TensorCore

/// AutoencoderKL's decoder: latents [N, latent, h, w] → image [N, 3, h·f, w·f].
struct VAEDecoder {
    let convIn: Conv2d
    let mid: VAEMidBlock
    let blocks: [(resnets: [ResnetBlock2D], upsampler: Upsample2D?)]
    let normOut: GroupNorm
    let convOut: Conv2d

    init(_ path: WeightPath, config: VAEConfig) throws {
        let reversed = Array(config.blockOutChannels.reversed()), g = config.normNumGroups
        convIn = try Conv2d(path("conv_in"), in: config.latentChannels, out: reversed[0], kernel: 3, padding: 1)
        mid = try VAEMidBlock(path("mid_block"), channels: reversed[0], groups: g)
        blocks = try reversed.indices.map { i in
            let block = path("up_blocks")(i)
            let resnets = try (0...config.layersPerBlock).map {
                try ResnetBlock2D(block("resnets")($0), in: $0 == 0 ? reversed[max(i - 1, 0)] : reversed[i],
                                  out: reversed[i], timeChannels: nil, groups: g, eps: 1e-6)
            }
            let up = i == reversed.count - 1 ? nil : try Upsample2D(block("upsamplers")(0), channels: reversed[i])
            return (resnets, up)
        }
        normOut = try GroupNorm(path("conv_norm_out"), groups: g, channels: reversed.last!, eps: 1e-6)
        convOut = try Conv2d(path("conv_out"), in: reversed.last!, out: config.outChannels, kernel: 3, padding: 1)
    }

    func callAsFunction(_ z: Tensor, stop: StopFlag?) throws -> Tensor {
        var h = try mid(convIn(z), stop: stop)
        for block in blocks {
            for resnet in block.resnets {
                h = resnet(h)
                try stop?.check()
            }
            if let up = block.upsampler {
                h = up(h)
                try stop?.check()
            }
        }
        return convOut(normOut(h, silu: true))
    }
}
