import TensorCore

/// Anything that can hand out named tensors: a safetensors file, several files,
/// a key-renaming view of a single-file checkpoint, or random weights.
public protocol WeightSource: AnyObject {
    /// Every tensor name the source holds.
    var tensorNames: [String] { get }
    /// The stored shape of `name`, or nil if absent.
    func shape(of name: String) -> [Int]?
    /// Loads `name` as Float32.
    func tensor(named name: String) throws -> Tensor
    /// Human-readable origin for error messages (a file path).
    var origin: String { get }
    /// `name` kept in half precision when it is stored as F16, else nil (then `tensor` widens).
    func halfPrecisionWeight(named name: String) throws -> LayerWeight?
}

extension WeightSource {
    public func halfPrecisionWeight(named name: String) throws -> LayerWeight? { nil }
}

