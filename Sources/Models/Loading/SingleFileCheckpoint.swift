import Foundation
import Formats
import TensorCore

/// One component's view of an original-layout SD checkpoint: model code asks for
/// diffusers names, this maps them to the checkpoint's names.
public final class RemappedWeightSource: WeightSource {
    let base: SafetensorsWeightSource
    let prefix: String
    let map: (String) -> String?

    public init(base: SafetensorsWeightSource, prefix: String, map: @escaping (String) -> String?) {
        self.base = base
        self.prefix = prefix
        self.map = map
    }

    /// Unused-key reporting needs the inverse map; single files are checked for
    /// missing and mis-shaped tensors only.
    public var tensorNames: [String] { [] }
    public func shape(of name: String) -> [Int]? { map(name).flatMap { base.shape(of: prefix + $0) } }
    public func tensor(named name: String) throws -> Tensor {
        guard let mapped = map(name) else {
            throw ModelError.missingFile("\(origin.terminalSafe): no original-layout name for '\(name.terminalSafe)'")
        }
        return try base.tensor(named: prefix + mapped)
    }
    public func halfPrecisionWeight(named name: String) throws -> LayerWeight? {
        try map(name).flatMap { try base.halfPrecisionWeight(named: prefix + $0) }
    }
    public var origin: String { base.origin }
}

/// A single-file SD1.x checkpoint (`model.diffusion_model.*`, `first_stage_model.*`,
/// `cond_stage_model.transformer.*`), with configs taken from SD1.5 or a given folder.
public struct SingleFileCheckpoint {
    public let source: SafetensorsWeightSource
    /// Whether its F16 weights stay half in memory (decided on the whole file's F16 bytes).
    public var weightResidence = WeightResidence.automatic

    public init(url: URL) throws {
        if ["ckpt", "pt", "pth", "bin"].contains(url.pathExtension) {
            throw ModelError.unsupported("\(url.path.terminalSafe): pickled checkpoints are never loaded; convert with training/convert_checkpoint.py")
        }
        source = try SafetensorsWeightSource(url: url)
    }

    /// Builds one component through a name map, reporting missing or mis-shaped tensors.
    private func build<Model>(prefix: String, map: @escaping (String) -> String?,
                              _ make: (WeightPath) throws -> Model) throws -> Model {
        let loader = WeightLoader(source: RemappedWeightSource(base: source, prefix: prefix, map: map))
        loader.keepsHalfPrecision = weightResidence.keepsHalf(halfPrecisionBytes: source.halfPrecisionBytes)
        let model = try make(loader.root)
        try loader.finish(checkingUnusedUnder: nil)
        return model
    }

    public func loadUNet(config: UNetConfig) throws -> UNet2DConditionModel {
        try build(prefix: LDMKeyMapping.unetPrefix, map: { LDMKeyMapping.unetKey($0, config: config) }) {
            try UNet2DConditionModel(config: config, weights: $0)
        }
    }

    public func loadVAE(config: VAEConfig) throws -> AutoencoderKL {
        try build(prefix: LDMKeyMapping.vaePrefix, map: { LDMKeyMapping.vaeKey($0, config: config) }) {
            try AutoencoderKL(config: config, weights: $0)
        }
    }

    public func loadTextEncoder(config: CLIPTextConfig) throws -> CLIPTextModel {
        try build(prefix: LDMKeyMapping.textPrefix, map: { $0 }) { try CLIPTextModel(config: config, weights: $0) }
    }
}
