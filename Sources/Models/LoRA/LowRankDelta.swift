import TensorCore

/// One LoRA's update of one layer, applied beside the frozen weight:
/// y = layer(x) + scale · up(down(x)), scale = the user's scale · alpha / rank.
/// For a Linear, down [rank, in] and up [out, rank]; for a Conv2d (LoCon), down is a
/// [rank, in, k, k] convolution with the layer's stride and padding, up a 1x1 [out, rank, 1, 1].
/// This is peft's unfused forward (`lora_B(lora_A(x)) * scaling`), the one diffusers runs.
public struct LowRankDelta {
    public let down: Tensor
    public let up: Tensor
    public let scale: Float

    public init(down: Tensor, up: Tensor, scale: Float) {
        self.down = down
        self.up = up
        self.scale = scale
    }

    public var rank: Int { down.shape[0] }

    /// scale · up(down(x)) for x [..., in] (Linear layers).
    func linear(_ x: Tensor) -> Tensor {
        x.linear(weight: down, bias: nil).linear(weight: up, bias: nil) * scale
    }

    /// scale · up(down(x)) for x [N, in, H, W] (Conv2d layers).
    func convolution(_ x: Tensor, stride: Int, padding: Int) -> Tensor {
        x.conv2d(weight: down, bias: nil, stride: (stride, stride), padding: (padding, padding))
            .conv2d(weight: up, bias: nil, stride: (1, 1), padding: (0, 0)) * scale
    }
}

/// The low-rank deltas of one run, by the weight path of the layer each adapts. Passed down
/// the forward pass explicitly (like the cross-attention conditioning), never stored in the
/// model: a run with other LoRAs or other scales just passes other deltas.
///
/// Why at run time rather than merged into the weights: scales change between runs with nothing
/// rebuilt and no pristine copy of the base weights kept to re-merge from (SD1.5's UNet is
/// 3.4 GB in Float32, and large models keep their weights half-resident), concurrent requests
/// cannot see each other's LoRAs, and the sum is peft's unfused forward, what diffusers runs.
/// The price is two thin products per adapted layer and step (rank · (in + out) multiply-adds
/// beside the layer's in · out).
public struct LayerDeltas {
    private var byPath: [String: [LowRankDelta]] = [:]

    public init() {}

    public static let none = LayerDeltas()

    public var isEmpty: Bool { byPath.isEmpty }
    /// Number of layers with at least one delta.
    public var layerCount: Int { byPath.count }

    public subscript(path: String) -> [LowRankDelta]? { byPath[path] }

    public mutating func add(_ delta: LowRankDelta, to path: String) {
        byPath[path, default: []].append(delta)
    }
}
