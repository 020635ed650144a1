import Formats
import TensorCore

/// A problem with a model's weights, reported by tensor name.
public enum WeightProblem: CustomStringConvertible, Equatable {
    case missing(String, expected: [Int])
    case misShaped(String, expected: [Int], found: [Int])
    case unexpected(String)
    /// `count` of the tensor's values are NaN or infinite (checked when the loader is asked to).
    case nonFinite(String, count: Int)

    /// Tensor names come from the file: shown terminal-safe.
    public var description: String {
        switch self {
        case .missing(let name, let expected): return "missing \(name.terminalSafe) \(expected)"
        case .misShaped(let name, let expected, let found): return "\(name.terminalSafe) has shape \(found), expected \(expected)"
        case .unexpected(let name): return "unexpected \(name.terminalSafe)"
        case .nonFinite(let name, let count):
            return "\(name.terminalSafe) has \(count) non-finite value\(count == 1 ? "" : "s") (NaN or Inf)"
        }
    }
}

public struct WeightLoadError: Error, CustomStringConvertible {
    public let origin: String
    public let problems: [WeightProblem]
    /// Building stopped early (the stand-ins for wrong tensors grew too large): `problems`
    /// are those found until then.
    public var stoppedEarly = false

    public init(origin: String, problems: [WeightProblem], stoppedEarly: Bool = false) {
        self.origin = origin
        self.problems = problems
        self.stoppedEarly = stoppedEarly
    }

    public var description: String {
        let shown = problems.prefix(4).map(\.description).joined(separator: "; ")
        let more = problems.count > 4 ? " (and \(problems.count - 4) more)" : ""
        let stop = stoppedEarly ? "; stopped checking: the config asks for tensors far larger than the file's" : ""
        return "\(origin.terminalSafe): \(problems.count) weight problem\(problems.count == 1 ? "" : "s"): \(shown)\(more)\(stop)"
    }
}

/// Hands weights to model constructors by path, checks shapes, and records what
/// was missing, mis-shaped or never used so one report can name them all.
///
/// Missing or mis-shaped tensors are replaced by zeros so that building goes on and
/// every problem is found in one pass; `finish()` then throws if there were any.
public final class WeightLoader {
    public let source: WeightSource?
    private let randomSeed: UInt64
    private let randomScale: Float
    public private(set) var problems: [WeightProblem] = []
    public private(set) var used: Set<String> = []
    public private(set) var parameterCount = 0
    /// Every Linear and Conv2d built from this loader, by weight path: what a LoRA file may adapt.
    public private(set) var adaptableLayers: [String: AdaptableLayer] = [:]
    /// Also record tensors holding NaN or Inf (`photoverse inspect` does; it reads every value).
    public var checksFiniteValues = false
    /// Keep F16-stored layer weights (Linear, Conv2d) in half precision, widened per product
    /// (`LayerWeight`): set for large models, where it halves the resident weights.
    public var keepsHalfPrecision = false
    /// Elements of the zero stand-ins made so far for missing or mis-shaped tensors.
    private var substitutedElements = 0
    /// The most stand-in elements (256 MiB of Float32, more than SD1.5's largest tensor): a
    /// config that asks for far larger tensors than the file holds (block_out_channels of 16384
    /// against SD's file) would otherwise allocate them all before reporting. Past it, building
    /// stops with the problems found so far.
    public static let substituteBudget = 1 << 26

    public init(source: WeightSource) {
        self.source = source
        randomSeed = 0
        randomScale = 0
    }

    /// Seeded random weights (benchmarks, tests): every request succeeds.
    public init(randomSeed: UInt64, scale: Float = 0.02) {
        source = nil
        self.randomSeed = randomSeed
        randomScale = scale
    }

    public var root: WeightPath { WeightPath(loader: self, prefix: "") }

    func load(_ name: String, shape: [Int], fill: Float?) throws -> Tensor {
        parameterCount += shape.reduce(1, *)
        guard let source else {
            if let fill { return Tensor(shape: shape, repeating: fill) }
            var hash: UInt64 = randomSeed
            for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
            return Tensor.seededUniform(shape: shape, seed: hash, scale: randomScale)
        }
        used.insert(name)
        guard let found = source.shape(of: name) else {
            problems.append(.missing(name, expected: shape))
            return try standIn(shape)
        }
        // Some layouts store a 1x1 conv as [out, in, 1, 1] where a Linear wants [out, in]
        // (and the reverse); the element order is the same, so accept either.
        if found != shape {
            let squeezed = found.filter { $0 != 1 }, wanted = shape.filter { $0 != 1 }
            guard squeezed == wanted else {
                problems.append(.misShaped(name, expected: shape, found: found))
                return try standIn(shape)
            }
        }
        let tensor = try source.tensor(named: name).reshaped(shape)
        if checksFiniteValues {
            let values = UnsafeBufferPointer(start: tensor.data, count: tensor.count)
            var bad = 0
            for value in values where !value.isFinite { bad += 1 }
            if bad > 0 { problems.append(.nonFinite(name, count: bad)) }
        }
        return tensor
    }

    /// A layer weight: half-resident when `keepsHalfPrecision` is set and the file stores it
    /// as F16 with exactly `shape`; otherwise the Float32 tensor `load` gives.
    func loadWeight(_ name: String, shape: [Int]) throws -> LayerWeight {
        if keepsHalfPrecision, !checksFiniteValues, let source, source.shape(of: name) == shape,
           let half = try source.halfPrecisionWeight(named: name) {
            parameterCount += half.count
            used.insert(name)
            return half
        }
        return LayerWeight(try load(name, shape: shape, fill: nil))
    }

    /// Zeros in place of a missing or mis-shaped tensor, so building goes on and finds every
    /// problem; refused past `substituteBudget` elements in all.
    private func standIn(_ shape: [Int]) throws -> Tensor {
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: max(dimension, 0))
            count = overflow ? Int.max : product
        }
        let (total, overflow) = substitutedElements.addingReportingOverflow(count)
        guard !overflow, total <= Self.substituteBudget else {
            throw WeightLoadError(origin: source?.origin ?? "random weights", problems: problems, stoppedEarly: true)
        }
        substitutedElements = total
        return Tensor(shape: shape)
    }

    func recordAdaptable(_ layer: AdaptableLayer) { adaptableLayers[layer.path] = layer }

    /// Names the source holds under `prefix` that no module asked for. `position_ids`
    /// is a buffer some exports save beside the weights, not a weight, so it never counts.
    public func unused(under prefix: String) -> [String] {
        guard let source else { return [] }
        return source.tensorNames.filter {
            $0.hasPrefix(prefix) && !used.contains($0) && !$0.hasSuffix("position_ids")
        }.sorted()
    }

    /// Throws one error naming every problem (including unused tensors under `prefix`).
    public func finish(checkingUnusedUnder prefix: String? = "") throws {
        var all = problems
        if let prefix { all += unused(under: prefix).map { .unexpected($0) } }
        if !all.isEmpty { throw WeightLoadError(origin: source?.origin ?? "random weights", problems: all) }
    }
}

/// A position in the weight tree, like `down_blocks.0.resnets.1`.
public struct WeightPath {
    let loader: WeightLoader
    public let prefix: String

    public func callAsFunction(_ component: String) -> WeightPath {
        WeightPath(loader: loader, prefix: prefix.isEmpty ? component : "\(prefix).\(component)")
    }

    public func callAsFunction(_ index: Int) -> WeightPath { self(String(index)) }

    /// The tensor `prefix.name`, which must have `shape`.
    public func tensor(_ name: String, _ shape: [Int]) throws -> Tensor {
        try loader.load(prefix.isEmpty ? name : "\(prefix).\(name)", shape: shape, fill: nil)
    }

    /// A Linear or Conv2d weight `prefix.name` of `shape`, possibly kept in half precision.
    public func weight(_ name: String, _ shape: [Int]) throws -> LayerWeight {
        try loader.loadWeight(prefix.isEmpty ? name : "\(prefix).\(name)", shape: shape)
    }

    /// Like `tensor`, but random weights get a constant (norm scales 1, biases 0).
    public func tensor(_ name: String, _ shape: [Int], randomFill: Float) throws -> Tensor {
        try loader.load(prefix.isEmpty ? name : "\(prefix).\(name)", shape: shape, fill: randomFill)
    }

    /// The shape `prefix.name` is stored with, or nil (always nil for random weights):
    /// lets adapters take their widths and LoRA ranks from the file.
    public func storedShape(_ name: String) -> [Int]? {
        loader.source?.shape(of: prefix.isEmpty ? name : "\(prefix).\(name)")
    }

    /// `self(component)`, unless the weights were saved without that level: transformers 5
    /// writes a bare CLIPTextModel's tensors without `text_model.`. `probe` is a tensor name
    /// below the component that every such model has.
    public func optionalLevel(_ component: String, probe: String) -> WeightPath {
        !self(component).has(probe) && has(probe) ? self : self(component)
    }

    /// Records a Linear or Conv2d at this path (their initialisers do).
    func recordAdaptable(_ layer: AdaptableLayer) { loader.recordAdaptable(layer) }

    /// The Linear and Conv2d layers built under this path so far, by their names relative to it
    /// (`down_blocks.0.resnets.0.conv1` under the UNet's root).
    public func adaptableLayers() -> [String: AdaptableLayer] {
        guard !prefix.isEmpty else { return loader.adaptableLayers }
        var below: [String: AdaptableLayer] = [:]
        for (path, layer) in loader.adaptableLayers where path.hasPrefix(prefix + ".") {
            below[String(path.dropFirst(prefix.count + 1))] = layer
        }
        return below
    }

    /// Whether the source holds `prefix.name` (always false for random weights).
    public func has(_ name: String) -> Bool {
        let full = prefix.isEmpty ? name : "\(prefix).\(name)"
        return loader.source?.shape(of: full) != nil
    }
}
