import TensorCore

/// diffusers' `Downsample2D` with a convolution: stride-2 3x3. The VAE variant pads
/// only right and bottom (padding 0 plus an asymmetric pad), the UNet pads 1 all round.
struct Downsample2D {
    let conv: Conv2d
    let asymmetricPadding: Bool

    init(_ path: WeightPath, channels: Int, asymmetricPadding: Bool) throws {
        conv = try Conv2d(path("conv"), in: channels, out: channels, kernel: 3, stride: 2,
                          padding: asymmetricPadding ? 0 : 1)
        self.asymmetricPadding = asymmetricPadding
    }

    func callAsFunction(_ x: Tensor, deltas: LayerDeltas = .none) -> Tensor {
        asymmetricPadding ? conv(x.padded(bottom: 1, right: 1), deltas) : conv(x, deltas)
    }
}

/// diffusers' `Upsample2D`: nearest 2x (or to the skip's size, as diffusers' `upsample_size`
/// when a latent side is not a multiple of 2^downsamplings), then a 3x3 convolution.
struct Upsample2D {
    let conv: Conv2d

    init(_ path: WeightPath, channels: Int) throws {
        conv = try Conv2d(path("conv"), in: channels, out: channels, kernel: 3, padding: 1)
    }

    func callAsFunction(_ x: Tensor, to size: (height: Int, width: Int)? = nil, deltas: LayerDeltas = .none) -> Tensor {
        guard let size, size != (2 * x.shape[2], 2 * x.shape[3]) else { return conv.afterUpsample2x(x, deltas) }
        return conv(x.upsampleNearest(height: size.height, width: size.width), deltas)
    }
}
