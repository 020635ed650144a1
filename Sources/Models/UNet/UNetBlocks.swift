import TensorCore

/// What the blocks need at run time besides the hidden states.
struct UNetContext {
    let time: Tensor      // SiLU(time embedding) [N, timeChannels]
    let conditioning: CrossAttentionConditioning   // text states [N, L, crossAttentionDim] and adapters
    let stop: StopFlag?   // checked after every resnet and transformer
    let deltas: LayerDeltas   // this run's LoRA deltas, by layer path
}

/// `CrossAttnDownBlock2D` / `DownBlock2D`: resnets (each optionally followed by a
/// transformer), then a stride-2 downsample except in the last block.
struct DownBlock {
    let resnets: [ResnetBlock2D]
    let attentions: [Transformer2D]
    let downsampler: Downsample2D?

    init(_ path: WeightPath, type: String, in inChannels: Int, out outChannels: Int, config: UNetConfig,
         heads: Int, timeChannels: Int, isLast: Bool) throws {
        guard type == "CrossAttnDownBlock2D" || type == "DownBlock2D" else {
            throw ModelError.unsupported("unet down block type '\(type)'")
        }
        resnets = try (0..<config.layersPerBlock).map {
            try ResnetBlock2D(path("resnets")($0), in: $0 == 0 ? inChannels : outChannels, out: outChannels,
                              timeChannels: timeChannels, groups: config.normNumGroups, eps: config.normEps)
        }
        attentions = type == "CrossAttnDownBlock2D" ? try (0..<config.layersPerBlock).map {
            try Transformer2D(path("attentions")($0), channels: outChannels, contextDim: config.crossAttentionDim,
                              heads: heads, layers: config.transformerLayersPerBlock, groups: config.normNumGroups,
                              linearProjection: config.useLinearProjection)
        } : []
        downsampler = isLast ? nil : try Downsample2D(path("downsamplers")(0), channels: outChannels, asymmetricPadding: false)
    }

    /// Returns the output and every intermediate the up path will concatenate.
    func callAsFunction(_ x: Tensor, _ context: UNetContext) throws -> (Tensor, [Tensor]) {
        var h = x
        var skips: [Tensor] = []
        for (i, resnet) in resnets.enumerated() {
            h = resnet(h, timeEmbedding: context.time, deltas: context.deltas)
            try context.stop?.check()
            if !attentions.isEmpty {
                h = attentions[i](h, conditioning: context.conditioning, deltas: context.deltas)
                try context.stop?.check()
            }
            skips.append(h)
        }
        if let downsampler {
            h = downsampler(h, deltas: context.deltas)
            skips.append(h)
        }
        return (h, skips)
    }
}

/// `UNetMidBlock2DCrossAttn`: resnet, transformer, resnet.
struct MidBlock {
    let first: ResnetBlock2D, attention: Transformer2D, second: ResnetBlock2D

    init(_ path: WeightPath, channels: Int, config: UNetConfig, heads: Int, timeChannels: Int) throws {
        first = try ResnetBlock2D(path("resnets")(0), in: channels, out: channels, timeChannels: timeChannels,
                                  groups: config.normNumGroups, eps: config.normEps)
        attention = try Transformer2D(path("attentions")(0), channels: channels, contextDim: config.crossAttentionDim,
                                      heads: heads, layers: config.transformerLayersPerBlock,
                                      groups: config.normNumGroups, linearProjection: config.useLinearProjection)
        second = try ResnetBlock2D(path("resnets")(1), in: channels, out: channels, timeChannels: timeChannels,
                                   groups: config.normNumGroups, eps: config.normEps)
    }

    func callAsFunction(_ x: Tensor, _ context: UNetContext) throws -> Tensor {
        let h = first(x, timeEmbedding: context.time, deltas: context.deltas)
        try context.stop?.check()
        let attended = attention(h, conditioning: context.conditioning, deltas: context.deltas)
        try context.stop?.check()
        return second(attended, timeEmbedding: context.time, deltas: context.deltas)
    }
}

/// `CrossAttnUpBlock2D` / `UpBlock2D`: layers+1 resnets, each on the hidden state
/// concatenated with a skip from the down path, then a 2x upsample except last.
struct UpBlock {
    let resnets: [ResnetBlock2D]
    let attentions: [Transformer2D]
    let upsampler: Upsample2D?

    /// `skipChannels[j]` is the width of the skip the j-th resnet consumes.
    init(_ path: WeightPath, type: String, previousOut: Int, out outChannels: Int, skipChannels: [Int],
         config: UNetConfig, heads: Int, timeChannels: Int, isLast: Bool) throws {
        guard type == "CrossAttnUpBlock2D" || type == "UpBlock2D" else {
            throw ModelError.unsupported("unet up block type '\(type)'")
        }
        resnets = try skipChannels.enumerated().map { j, skip in
            try ResnetBlock2D(path("resnets")(j), in: (j == 0 ? previousOut : outChannels) + skip, out: outChannels,
                              timeChannels: timeChannels, groups: config.normNumGroups, eps: config.normEps)
        }
        attentions = type == "CrossAttnUpBlock2D" ? try skipChannels.indices.map {
            try Transformer2D(path("attentions")($0), channels: outChannels, contextDim: config.crossAttentionDim,
                              heads: heads, layers: config.transformerLayersPerBlock, groups: config.normNumGroups,
                              linearProjection: config.useLinearProjection)
        } : []
        upsampler = isLast ? nil : try Upsample2D(path("upsamplers")(0), channels: outChannels)
    }

    func callAsFunction(_ x: Tensor, skips: inout [Tensor], _ context: UNetContext) throws -> Tensor {
        var h = x
        for (i, resnet) in resnets.enumerated() {
            let skip = skips.removeLast()
            h = resnet(Tensor.concat([h, skip], axis: 1), timeEmbedding: context.time, deltas: context.deltas)
            try context.stop?.check()
            if !attentions.isEmpty {
                h = attentions[i](h, conditioning: context.conditioning, deltas: context.deltas)
                try context.stop?.check()
            }
        }
        // The next block concatenates the next skip: upsample to its size (2x, or 2x-1 on a side
        // that was odd on the way down).
        if let upsampler { h = upsampler(h, to: skips.last.map { ($0.shape[2], $0.shape[3]) }, deltas: context.deltas) }
        return h
    }
}
