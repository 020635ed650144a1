import TensorCore

/// diffusers' `AutoencoderTinyBlock`: three 3x3 convolutions with the activation between them,
/// added to the input, then a ReLU (`fuse`, always a ReLU whatever `act_fn` is). AutoencoderTiny
/// builds every block with as many outputs as inputs, so the skip is the identity.
struct TinyAutoencoderBlock {
    let convs: [Conv2d]
    let activation: Activation

    init(_ path: WeightPath, channels: Int, activation: Activation) throws {
        // Sequential(conv, act, conv, act, conv): the convolutions are layers 0, 2 and 4.
        convs = try [0, 2, 4].map { try Conv2d(path("conv")($0), in: channels, out: channels, kernel: 3, padding: 1) }
        self.activation = activation
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = convs[2](Self.activated(convs[1](Self.activated(convs[0](x), activation)), activation))
        // fuse(conv(x) + x), in the convolution's fresh output.
        let out = h.data, input = x.data
        Parallel.forRanges(h.count) { range in for i in range { out[i] = max(out[i] + input[i], 0) } }
        return h
    }

    /// `activation` of a tensor just made here that nothing else holds: a ReLU (TAESD's) in place,
    /// which at 512x512 saves a 64 MB allocation per call; the others as usual.
    static func activated(_ fresh: Tensor, _ activation: Activation) -> Tensor {
        guard activation == .relu else { return activation(fresh) }
        let values = fresh.data
        Parallel.forRanges(fresh.count) { range in for i in range { values[i] = max(values[i], 0) } }
        return fresh
    }
}
