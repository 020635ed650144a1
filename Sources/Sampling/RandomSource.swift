import TensorCore

/// A stream of standard-normal Float32 samples: the initial latents and the noise that stochastic
/// schedulers inject. Sources are stateful: each call continues the stream.
public protocol RandomSource: AnyObject {
    /// Fills `buffer` with standard-normal samples. One call is one draw of `buffer.count` values
    /// (for `TorchRandomSource`, one `torch.randn` call: how the values come out depends on the
    /// size of the call, not only on the position in the stream).
    func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>)
}

extension RandomSource {
    /// A tensor of `shape` filled by one `fillNormal` call (`torch.randn(shape, generator=...)`).
    public func normalTensor(shape: [Int]) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        fillNormal(UnsafeMutableBufferPointer(start: out.data, count: out.count))
        return out
    }

    /// `count` standard-normal values from one `fillNormal` call.
    public func normal(count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            fillNormal(buffer)
            initialized = count
        }
    }
}
