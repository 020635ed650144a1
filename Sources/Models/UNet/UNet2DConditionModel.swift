import TensorCore

/// diffusers' `UNet2DConditionModel`, built from its config: SD1.5 and tiny test
/// configs run through the same code.
public struct UNet2DConditionModel {
    public let config: UNetConfig
    let convIn: Conv2d
    let timeEmbedding: TimestepEmbedding
    let downBlocks: [DownBlock]
    let midBlock: MidBlock
    let upBlocks: [UpBlock]
    let normOut: GroupNorm
    let convOut: Conv2d
    /// The Linear and Conv2d layers a LoRA file may adapt, by module name.
    public let loraTargets: LoRATargets

    public init(config: UNetConfig, weights path: WeightPath) throws {
        self.config = config
        let channels = config.blockOutChannels
        let timeChannels = channels[0] * 4
        convIn = try Conv2d(path("conv_in"), in: config.inChannels, out: channels[0], kernel: 3, padding: 1)
        timeEmbedding = try TimestepEmbedding(path("time_embedding"), channels: channels[0], embeddingDim: timeChannels,
                                              flipSinToCos: config.flipSinToCos, freqShift: config.freqShift)
        // Widths of the skips the down path leaves behind, in push order.
        var skipStack = [channels[0]]
        var down: [DownBlock] = []
        for (i, type) in config.downBlockTypes.enumerated() {
            let isLast = i == channels.count - 1
            down.append(try DownBlock(path("down_blocks")(i), type: type, in: i == 0 ? channels[0] : channels[i - 1],
                                      out: channels[i], config: config, heads: config.attentionHeads[i],
                                      timeChannels: timeChannels, isLast: isLast))
            skipStack += Array(repeating: channels[i], count: config.layersPerBlock + (isLast ? 0 : 1))
        }
        downBlocks = down
        midBlock = try MidBlock(path("mid_block"), channels: channels.last!, config: config,
                                heads: config.attentionHeads.last!, timeChannels: timeChannels)
        let reversedChannels = Array(channels.reversed())
        let reversedHeads = Array(config.attentionHeads.reversed())
        var up: [UpBlock] = []
        for (i, type) in config.upBlockTypes.enumerated() {
            var skips: [Int] = []
            for _ in 0...config.layersPerBlock { skips.append(skipStack.removeLast()) }
            up.append(try UpBlock(path("up_blocks")(i), type: type,
                                  previousOut: i == 0 ? reversedChannels[0] : reversedChannels[i - 1],
                                  out: reversedChannels[i], skipChannels: skips, config: config,
                                  heads: reversedHeads[i], timeChannels: timeChannels,
                                  isLast: i == channels.count - 1))
        }
        upBlocks = up
        normOut = try GroupNorm(path("conv_norm_out"), groups: config.normNumGroups, channels: channels[0], eps: config.normEps)
        convOut = try Conv2d(path("conv_out"), in: channels[0], out: config.outChannels, kernel: 3, padding: 1)
        let layers = path.adaptableLayers()
        var original: [String: String] = [:]
        for name in layers.keys {
            if let key = LDMKeyMapping.unetKey(name + ".weight", config: config) { original[name] = String(key.dropLast(".weight".count)) }
        }
        loraTargets = LoRATargets(layers: layers, kohyaPrefix: "lora_unet_", originalNames: original)
    }

    /// Predicts the noise for `sample` [N, C, H, W] at `timestep`, conditioned on
    /// `encoderHiddenStates` [N, L, crossAttentionDim].
    public func callAsFunction(_ sample: Tensor, timestep: Float, encoderHiddenStates: Tensor) -> Tensor {
        self(sample, timestep: timestep, conditioning: CrossAttentionConditioning(text: encoderHiddenStates))
    }

    /// Predicts the noise with PhotoVerse's conditioning (text, image tokens, adapters, γ σ α).
    /// Reuse one conditioning over the steps of a generation: it keeps the keys and values.
    public func callAsFunction(_ sample: Tensor, timestep: Float, conditioning: CrossAttentionConditioning) -> Tensor {
        // Without a stop flag nothing can throw.
        try! self(sample, timestep: timestep, conditioning: conditioning, stop: nil)
    }

    /// As above, checking `stop` between layers: throws `ForwardStopped` when it is raised.
    /// `deltas`: this run's LoRA updates (`LoRAFile.deltas`), added beside the frozen weights.
    public func callAsFunction(_ sample: Tensor, timestep: Float, conditioning: CrossAttentionConditioning,
                               stop: StopFlag?, deltas: LayerDeltas = .none) throws -> Tensor {
        let n = sample.shape[0]
        precondition(conditioning.batch == n, "unet: \(n) samples but \(conditioning.batch) text conditionings")
        let context = UNetContext(time: timeEmbedding(Array(repeating: timestep, count: n), deltas: deltas).silu(),
                                  conditioning: conditioning, stop: stop, deltas: deltas)
        var h = convIn(sample, deltas)
        var skips = [h]
        for block in downBlocks {
            let (out, blockSkips) = try block(h, context)
            h = out
            skips += blockSkips
        }
        h = try midBlock(h, context)
        for block in upBlocks { h = try block(h, skips: &skips, context) }
        return convOut(normOut(h, silu: true), deltas)
    }

    /// Weight paths of every attn2, in diffusers' `attn_processors` order (down blocks,
    /// up blocks, then the mid block, the order the modules were registered in): IP-Adapter
    /// files number their layers this way (attention processor 2j + 1 is attn2 number j).
    public var crossAttentionPaths: [String] {
        downBlocks.flatMap { $0.attentions.flatMap(\.crossAttentionPaths) }
            + upBlocks.flatMap { $0.attentions.flatMap(\.crossAttentionPaths) }
            + midBlock.attention.crossAttentionPaths
    }

    /// Inner width (heads · head size) of each attn2 in `crossAttentionPaths` order.
    public var crossAttentionWidths: [Int] {
        downBlocks.flatMap { $0.attentions.flatMap(\.crossAttentionWidths) }
            + upBlocks.flatMap { $0.attentions.flatMap(\.crossAttentionWidths) }
            + midBlock.attention.crossAttentionWidths
    }
}
