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
        let h = convs[2](activation(convs[1](activation(convs[0](x)))))
        return (h + x).relu()
    }
}
