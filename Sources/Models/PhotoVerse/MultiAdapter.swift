import TensorCore

/// PhotoVerse's multi-adapter (ELITE's global-mapper layout): for each chosen encoder
/// layer i, `mapping_i` maps the CLS token and `mapping_patch_i` maps every patch token,
/// averaged after the MLP; their sum is token i. The text branch turns the tokens into
/// pseudo-words S_1..S_m, the image branch into the image tokens f.
public struct MultiAdapter {
    let mappings: [AdapterMLP]
    let patchMappings: [AdapterMLP]
    public let inFeatures: Int, hidden: Int, outFeatures: Int

    public init(_ path: WeightPath, layers: Int, in inFeatures: Int, hidden: Int, out outFeatures: Int) throws {
        mappings = try (0..<layers).map {
            try AdapterMLP(path("mapping_\($0)"), in: inFeatures, hidden: hidden, out: outFeatures)
        }
        patchMappings = try (0..<layers).map {
            try AdapterMLP(path("mapping_patch_\($0)"), in: inFeatures, hidden: hidden, out: outFeatures)
        }
        self.inFeatures = inFeatures
        self.hidden = hidden
        self.outFeatures = outFeatures
    }

    /// Widths read from a stored adapter (`mapping_0`), nil when the file has none.
    public static func storedWidths(_ path: WeightPath) -> (in: Int, hidden: Int, out: Int)? {
        guard let first = path("mapping_0")("0").storedShape("weight"), first.count == 2,
              let last = path("mapping_0")("6").storedShape("weight"), last.count == 2 else { return nil }
        return (first[1], first[0], last[0])
    }

    /// Number of layers the stored adapter maps (`mapping_0`, `mapping_1`, ...).
    public static func storedLayerCount(_ path: WeightPath) -> Int {
        var count = 0
        while path("mapping_\(count)")("0").storedShape("weight") != nil { count += 1 }
        return count
    }

    public var layerCount: Int { mappings.count }

    /// features[i]: [N, 1 + patches, inFeatures] of encoder layer i → tokens [N, layers, out].
    public func callAsFunction(_ features: [Tensor]) -> Tensor {
        precondition(features.count == mappings.count, "adapter maps \(mappings.count) layers, got \(features.count)")
        let tokens = features.enumerated().map { i, states -> Tensor in
            let n = states.shape[0], length = states.shape[1]
            let cls = mappings[i](states.slice(axis: 1, start: 0, length: 1))
            let patches = patchMappings[i](states.slice(axis: 1, start: 1, length: length - 1))
            return cls + patches.mean(axis: 1, keepDims: true).reshaped([n, 1, outFeatures])
        }
        return Tensor.concat(tokens, axis: 1)
    }
}
