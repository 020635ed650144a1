#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TerminalText

/// A diffusers `scheduler_config.json`, the fields the PhotoVerse schedulers use.
///
/// Keys missing from the file take the Stable Diffusion 1.5 values, which are what diffusers'
/// `pipe.scheduler.config` holds for SD1.5 (its `PNDMScheduler` registers
/// `timestep_spacing = "leading"`), and so what `XScheduler.from_config(pipe.scheduler.config)`
/// hands every scheduler. Keys this engine does not know (`_class_name`, `skip_prk_steps`, ...)
/// are ignored; known keys with unsupported values throw a `SchedulerError.invalidConfig`.
public struct SchedulerConfig: Equatable, Sendable {
    public enum BetaSchedule: String, Sendable, CaseIterable {
        case linear
        case scaledLinear = "scaled_linear"
    }

    public enum TimestepSpacing: String, Sendable, CaseIterable {
        case leading, trailing, linspace
    }

    public enum PredictionType: String, Sendable, CaseIterable {
        case epsilon
        case vPrediction = "v_prediction"
    }

    public var numTrainTimesteps: Int = 1000
    public var betaStart: Double = 0.00085
    public var betaEnd: Double = 0.012
    public var betaSchedule: BetaSchedule = .scaledLinear
    /// Explicit betas (`trained_betas`); when set they replace the start/end/schedule triple.
    public var trainedBetas: [Double]? = nil
    public var timestepSpacing: TimestepSpacing = .leading
    public var stepsOffset: Int = 1
    public var predictionType: PredictionType = .epsilon
    /// DDIM and LCM: use ᾱ = 1 past the last step instead of ᾱ₀.
    public var setAlphaToOne: Bool = false
    /// DDIM and LCM: clamp the predicted x₀ to ±`clipSampleRange`.
    public var clipSample: Bool = false
    public var clipSampleRange: Double = 1.0
    /// LCM: the step count of the distillation schedule.
    public var originalInferenceSteps: Int = 50
    /// LCM: scale of the timestep in the consistency boundary condition.
    public var timestepScaling: Double = 10.0

    /// Stable Diffusion 1.x (runwayml/stable-diffusion-v1-5 `scheduler/scheduler_config.json`).
    public static let stableDiffusion15 = SchedulerConfig()

    public init(numTrainTimesteps: Int = 1000, betaStart: Double = 0.00085, betaEnd: Double = 0.012,
                betaSchedule: BetaSchedule = .scaledLinear, trainedBetas: [Double]? = nil,
                timestepSpacing: TimestepSpacing = .leading, stepsOffset: Int = 1,
                predictionType: PredictionType = .epsilon, setAlphaToOne: Bool = false,
                clipSample: Bool = false, clipSampleRange: Double = 1.0,
                originalInferenceSteps: Int = 50, timestepScaling: Double = 10.0) {
        self.numTrainTimesteps = numTrainTimesteps
        self.betaStart = betaStart
        self.betaEnd = betaEnd
        self.betaSchedule = betaSchedule
        self.trainedBetas = trainedBetas
        self.timestepSpacing = timestepSpacing
        self.stepsOffset = stepsOffset
        self.predictionType = predictionType
        self.setAlphaToOne = setAlphaToOne
        self.clipSample = clipSample
        self.clipSampleRange = clipSampleRange
        self.originalInferenceSteps = originalInferenceSteps
        self.timestepScaling = timestepScaling
    }

    /// The most training timesteps a schedule may have (SD uses 1000): the noise schedule and
    /// its tables hold one value per timestep.
    public static let maxTrainTimesteps = 100_000
    /// A scheduler config larger than this is not a scheduler config.
    public static let maxFileSize = 16 << 20

    /// Reads a `scheduler_config.json`. Only a regular file is opened (a FIFO would block);
    /// every failure is a `SchedulerConfigFileError` naming the file.
    public static func load(from url: URL) throws -> SchedulerConfig {
        let data = try SchedulerConfigFileError.readRegularFile(url, limit: maxFileSize)
        do {
            return try JSONDecoder().decode(SchedulerConfig.self, from: data)
        } catch let error as SchedulerError {
            throw SchedulerConfigFileError(file: url.path, reason: error.description)
        } catch let error as DecodingError {
            throw SchedulerConfigFileError(file: url.path, reason: Self.describe(error))
        } catch {
            throw SchedulerConfigFileError(file: url.path, reason: "\(error)")
        }
    }

    /// `validate()`, with the error naming `file` (as `load` reports it).
    public func validate(file: String) throws {
        do {
            try validate()
        } catch let error as SchedulerError {
            throw SchedulerConfigFileError(file: file, reason: error.description)
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context) where context.codingPath.isEmpty,
             .valueNotFound(_, let context) where context.codingPath.isEmpty:
            return "scheduler config: the top level is not a JSON object"
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "scheduler config: not valid JSON"
        default:
            return "scheduler config: \(error)"
        }
    }

    /// Throws if a value cannot drive a schedule (the decoder calls this; call it after building
    /// a config by hand).
    public func validate() throws {
        if numTrainTimesteps < 2 || numTrainTimesteps > Self.maxTrainTimesteps {
            throw SchedulerError.invalidConfig(key: "num_train_timesteps", value: "\(numTrainTimesteps)",
                                               reason: "must lie in 2...\(Self.maxTrainTimesteps)")
        }
        if let betas = trainedBetas {
            if betas.count != numTrainTimesteps {
                throw SchedulerError.invalidConfig(
                    key: "trained_betas", value: "[\(betas.count) values]",
                    reason: "needs num_train_timesteps = \(numTrainTimesteps) values")
            }
            if let bad = betas.first(where: { !($0 > 0 && $0 < 1) }) {
                throw SchedulerError.invalidConfig(key: "trained_betas", value: "\(bad)",
                                                   reason: "every beta must lie in (0, 1)")
            }
        } else {
            for (key, value) in [("beta_start", betaStart), ("beta_end", betaEnd)] where !(value > 0 && value < 1) {
                throw SchedulerError.invalidConfig(key: key, value: "\(value)", reason: "must lie in (0, 1)")
            }
        }
        if stepsOffset < 0 || stepsOffset >= numTrainTimesteps {
            throw SchedulerError.invalidConfig(key: "steps_offset", value: "\(stepsOffset)",
                                               reason: "must lie in 0...num_train_timesteps - 1 (\(numTrainTimesteps - 1))")
        }
        if !(clipSampleRange > 0) || !clipSampleRange.isFinite {
            throw SchedulerError.invalidConfig(key: "clip_sample_range", value: "\(clipSampleRange)",
                                               reason: "must be a finite positive number")
        }
        if !timestepScaling.isFinite {
            throw SchedulerError.invalidConfig(key: "timestep_scaling", value: "\(timestepScaling)",
                                               reason: "must be a finite number")
        }
        // The schedule must keep some signal to the end and add some noise from the start, or
        // the sigmas σ = √((1 − ᾱ) / ᾱ) the samplers interpolate in are infinite or zero (found
        // by fuzz-config: 26849 timesteps of SD's betas drive ᾱ to 0 and DPM-Solver to a trap).
        let schedule = NoiseSchedule(config: self)
        if let last = schedule.alphasCumprod.last, !(last > 1e-20) {
            throw SchedulerError.invalidConfig(
                key: trainedBetas == nil ? "num_train_timesteps" : "trained_betas",
                value: trainedBetas == nil ? "\(numTrainTimesteps)" : "[\(numTrainTimesteps) values]",
                reason: "the noise schedule leaves no signal (alphas_cumprod at the last timestep is \(last), must be above 1e-20): use fewer timesteps or smaller betas")
        }
        if let first = schedule.alphasCumprod.first, !(first < 1) {
            throw SchedulerError.invalidConfig(
                key: trainedBetas == nil ? "beta_start" : "trained_betas",
                value: trainedBetas.map { "\($0[0])" } ?? "\(betaStart)",
                reason: "the first beta is too small to add any noise in Float32 (alphas_cumprod[0] rounds to 1)")
        }
        if originalInferenceSteps < 1 || originalInferenceSteps > numTrainTimesteps {
            throw SchedulerError.invalidConfig(
                key: "original_inference_steps", value: "\(originalInferenceSteps)",
                reason: "must lie in 1...num_train_timesteps (\(numTrainTimesteps))")
        }
    }
}

extension SchedulerConfig: Decodable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.init()

        func value<T: Decodable>(_ key: String, _ type: T.Type, expected: String) throws -> T? {
            let k = Key(key)
            guard c.contains(k), try !c.decodeNil(forKey: k) else { return nil }
            do {
                return try c.decode(T.self, forKey: k)
            } catch is DecodingError {
                throw SchedulerError.invalidConfig(key: key, value: Self.rawText(c, k), reason: "expected \(expected)")
            }
        }
        func choice<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws -> E?
        where E.RawValue == String {
            guard let raw = try value(key, String.self, expected: "a string") else { return nil }
            guard let parsed = E(rawValue: raw) else {
                let allowed = E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                throw SchedulerError.invalidConfig(key: key, value: "\"\(raw.terminalSafe)\"",
                                                   reason: "unsupported (expected one of \(allowed))")
            }
            return parsed
        }
        func unsupportedIfTrue(_ key: String) throws {
            if try value(key, Bool.self, expected: "true or false") == true {
                throw SchedulerError.invalidConfig(key: key, value: "true", reason: "not supported by PhotoVerse")
            }
        }

        if let v = try value("num_train_timesteps", Int.self, expected: "an integer") { numTrainTimesteps = v }
        if let v = try value("beta_start", Double.self, expected: "a number") { betaStart = v }
        if let v = try value("beta_end", Double.self, expected: "a number") { betaEnd = v }
        if let v = try choice("beta_schedule", BetaSchedule.self) { betaSchedule = v }
        if let v = try value("trained_betas", [Double].self, expected: "an array of numbers") { trainedBetas = v }
        if let v = try choice("timestep_spacing", TimestepSpacing.self) { timestepSpacing = v }
        if let v = try value("steps_offset", Int.self, expected: "an integer") { stepsOffset = v }
        if let v = try choice("prediction_type", PredictionType.self) { predictionType = v }
        if let v = try value("set_alpha_to_one", Bool.self, expected: "true or false") { setAlphaToOne = v }
        if let v = try value("clip_sample", Bool.self, expected: "true or false") { clipSample = v }
        if let v = try value("clip_sample_range", Double.self, expected: "a number") { clipSampleRange = v }
        if let v = try value("original_inference_steps", Int.self, expected: "an integer") {
            originalInferenceSteps = v
        }
        if let v = try value("timestep_scaling", Double.self, expected: "a number") { timestepScaling = v }
        try unsupportedIfTrue("thresholding")
        try unsupportedIfTrue("rescale_betas_zero_snr")
        try validate()
    }

    /// The JSON text of a value, for error messages.
    private static func rawText(_ c: KeyedDecodingContainer<Key>, _ k: Key) -> String {
        if let s = try? c.decode(String.self, forKey: k) { return "\"\(s.terminalSafe)\"" }
        if let d = try? c.decode(Double.self, forKey: k) { return "\(d)" }
        if let b = try? c.decode(Bool.self, forKey: k) { return "\(b)" }
        return "(a value of another type)"
    }
}

/// A scheduler config file that cannot be read or used; one line naming the file.
public struct SchedulerConfigFileError: Error, Equatable, CustomStringConvertible, LocalizedError {
    public let file: String
    public let reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String {
        "\(file.terminalSafe): \(reason.split(whereSeparator: \.isNewline).joined(separator: " ").terminalSafe)"
    }

    public var errorDescription: String? { description }

    /// The bytes of a regular file of at most `limit` bytes. The kind is checked before the
    /// file is opened, and it is opened non-blocking, so a FIFO can never block the caller.
    static func readRegularFile(_ url: URL, limit: Int) throws -> Data {
        func fail(_ reason: String) -> SchedulerConfigFileError { SchedulerConfigFileError(file: url.path, reason: reason) }
        var status = stat()
        guard stat(url.path, &status) == 0 else { throw fail("cannot open: \(String(cString: strerror(errno)))") }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw fail("is not a regular file (a directory, FIFO, device or socket)") }
        guard Int(status.st_size) <= limit else { throw fail("is \(status.st_size) bytes, over the \(limit >> 20) MiB limit for a scheduler config") }
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw fail("cannot open: \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var opened = stat()
        guard fstat(descriptor, &opened) == 0, (opened.st_mode & S_IFMT) == S_IFREG else {
            throw fail("is not a regular file (a directory, FIFO, device or socket)")
        }
        do {
            return try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw fail("cannot read: \(error.localizedDescription)")
        }
    }
}
