import TensorCore

/// A low-rank update of a projection, kept apart from the frozen weight so its scale α
/// can change between runs: y = W x + α · B (A x), A [rank, in], B [out, rank].
public struct LoRA {
    public let down: Tensor   // A: lora_A.weight
    public let up: Tensor     // B: lora_B.weight

    public init(_ path: WeightPath, in inFeatures: Int, out outFeatures: Int, rank: Int) throws {
        down = try path("lora_A").tensor("weight", [rank, inFeatures])
        up = try path("lora_B").tensor("weight", [outFeatures, rank])
    }

    public var rank: Int { down.shape[0] }

    /// α · B (A x) for x [..., in].
    public func delta(_ x: Tensor, scale: Float) -> Tensor {
        x.linear(weight: down, bias: nil).linear(weight: up, bias: nil) * scale
    }
}
