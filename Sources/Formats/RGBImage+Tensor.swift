import TensorCore

/// The value range of image tensors.
public enum PixelRange: Sendable {
    /// [-1, 1]: what the VAE encoder takes and its decoder produces.
    case minusOneToOne
    /// [0, 1]: what CLIP-style preprocessing and previews start from.
    case zeroToOne

    /// Maps a byte 0...255 into the range.
    @inline(__always)
    func value(_ byte: UInt8) -> Float {
        switch self {
        case .minusOneToOne: return Float(byte) / 127.5 - 1
        case .zeroToOne: return Float(byte) / 255
        }
    }

    /// Maps a value of the range to the nearest byte, clamping outside values (NaN -> 0).
    @inline(__always)
    func byte(_ value: Float) -> UInt8 {
        let unit: Float
        switch self {
        case .minusOneToOne: unit = (value + 1) * 0.5
        case .zeroToOne: unit = value
        }
        guard unit > 0 else { return 0 }  // also catches NaN
        guard unit < 1 else { return 255 }
        return UInt8((unit * 255).rounded())
    }
}

extension RGBImage {
    /// A [1, 3, height, width] tensor (planar RGB). Alpha is composited on white first:
    /// the models have no alpha input.
    public func tensor(range: PixelRange = .minusOneToOne) -> Tensor {
        let opaque = flattened()
        let plane = width * height
        let result = Tensor(uninitializedShape: [1, 3, height, width])
        let out = result.data
        opaque.pixels.withUnsafeBufferPointer { bytes in
            for index in 0..<plane {
                out[index] = range.value(bytes[3 * index])
                out[plane + index] = range.value(bytes[3 * index + 1])
                out[2 * plane + index] = range.value(bytes[3 * index + 2])
            }
        }
        return result
    }

    /// An image from a [N, 3, H, W] (image `batchIndex`) or [3, H, W] tensor in `range`.
    /// Values outside the range are clamped; each is rounded to the nearest 8-bit level.
    public init(tensor: Tensor, range: PixelRange = .minusOneToOne, batchIndex: Int = 0) {
        let shape = tensor.shape
        precondition((shape.count == 4 && shape[1] == 3) || (shape.count == 3 && shape[0] == 3),
                     "an image tensor is [N, 3, H, W] or [3, H, W], got \(shape)")
        let batch = shape.count == 4 ? shape[0] : 1
        precondition(batchIndex >= 0 && batchIndex < batch, "batch index \(batchIndex) outside a batch of \(batch)")
        let height = shape[shape.count - 2]
        let width = shape[shape.count - 1]
        let plane = width * height
        let source = tensor.data + batchIndex * 3 * plane
        var pixels = [UInt8](repeating: 0, count: plane * 3)
        pixels.withUnsafeMutableBufferPointer { bytes in
            for index in 0..<plane {
                bytes[3 * index] = range.byte(source[index])
                bytes[3 * index + 1] = range.byte(source[plane + index])
                bytes[3 * index + 2] = range.byte(source[2 * plane + index])
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }
}
