import ArgumentParser
import Formats
import Foundation
import Models
import Pipeline
import Sampling

/// Model folder summary.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarise a model folder (configs, parameter counts, dtypes, key problems) or name a weights file's kind and what it needs.",
        discussion: """
            Every config is checked with the same rules loading uses (sizes in range, heads and \
            groups dividing the channels, token ids below vocab_size, ...), every weight by \
            name, shape and value (NaN or Inf are reported by tensor name). Exits with status \
            1 when anything is wrong.
            """)

    @Argument(help: "A model folder (diffusers layout) or single file, an IP-Adapter or LoRA file, an image encoder, ArcFace, TAESD or dlib folder: names its kind and what it needs.")
    var model: String

    func run() throws {
        if try inspectIPAdapterFile() { return }
        // Before LoRA: a PhotoVerse adapter carries LoRA factors beside its own branches.
        if let kind = WeightsKind.recognise(model) {
            print("\(model.terminalSafe): \(kind.title)")
            for line in kind.needs { print("  \(line.terminalSafe)") }
            // A file that must be converted first cannot be used as it is.
            if kind.title.hasPrefix("not read") { throw ExitCode(1) }
            return
        }
        if try inspectLoRAFile() { return }
        let folder: ModelFolder
        do {
            folder = try ModelFolder(URL(fileURLWithPath: model))
        } catch {
            FileHandle.standardError.write(Data("photoverse inspect: \("\(error)".terminalSafe)\n".utf8))
            throw ExitCode(1)
        }
        var failed = false
        for component in folder.inspect() + [Self.inspectScheduler(folder), Self.inspectLatentPreview(folder)] {
            let dtypes = component.dtypes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            print("\(component.name): \(component.config.terminalSafe)")
            print("  parameters \(component.parameters.formatted()), tensors: \(dtypes.isEmpty ? "-" : dtypes.terminalSafe)")
            for problem in component.problems { print("  problem: \(problem.terminalSafe)") }
            failed = failed || !component.problems.isEmpty
        }
        if failed { throw ExitCode(1) }
    }

    /// A single `.safetensors` IP-Adapter file: its variant and layout, recognised from its tensor
    /// names, and what it needs alongside. False when `model` is not such a file.
    func inspectIPAdapterFile() throws -> Bool {
        var isDirectory: ObjCBool = false
        guard model.hasSuffix(".safetensors"), FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory),
              !isDirectory.boolValue else { return false }
        do {
            let file = try SafetensorsFile(url: URL(fileURLWithPath: model))
            let shape = { (name: String) in try? file.info(name).shape }
            guard let kind = try IPAdapterKind.recognise(Set(file.tensorNames), shape: shape, file: model) else { return false }
            print("\(model.terminalSafe): \(kind.variant.title), \(kind.layout.rawValue) layout (--adapter)")
            print("  tensors \(file.tensorNames.count), needs \(kind.variant.needs)")
            if file.tensorNames.contains(where: { $0.contains("_lora.") }) {
                print("  carries FaceID's companion LoRA (ip_adapter.*.to_*_lora.*), applied at scale 1 with the adapter")
            } else if kind.layout == .diffusers, kind.variant.needsFaceEmbedding {
                print("  FaceID's companion LoRA is not in diffusers' layout: give it with --lora FILE")
            }
            return true
        } catch {
            FileHandle.standardError.write(Data("photoverse inspect: \("\(error)".terminalSafe)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// A single `.safetensors` LoRA file: its layout, the layers it adapts, ranks and alphas (from
    /// the names and shapes; whether they fit a model is checked when a run uses it). False when
    /// `model` is not such a file.
    func inspectLoRAFile() throws -> Bool {
        var isDirectory: ObjCBool = false
        guard model.hasSuffix(".safetensors"), FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory),
              !isDirectory.boolValue else { return false }
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(url: URL(fileURLWithPath: model))
        } catch {
            FileHandle.standardError.write(Data("photoverse inspect: \("\(error)".terminalSafe)\n".utf8))
            throw ExitCode(1)
        }
        guard let summary = LoRAFile.summary(of: file) else { return false }
        print("\(model.terminalSafe): LoRA, \(summary.layouts.map(\.rawValue).joined(separator: " + ")) layout (--lora FILE[:SCALE])")
        let ranks = summary.ranks.map(String.init).joined(separator: ", ")
        print("  UNet layers \(summary.unetLayers) (\(summary.convolutions) LoCon convolutions), text encoder layers \(summary.textEncoderLayers)")
        print("  rank\(summary.ranks.count == 1 ? "" : "s") \(ranks); \(summary.alphas) alpha\(summary.alphas == 1 ? "" : "s") (scale alpha/rank; none: 1)")
        print("  needs an SD1.x model; each name and shape is checked against it when a run uses the file")
        return true
    }

    /// The step preview's colour map (`vae/latent_preview.json`), through the loader the pipeline
    /// uses: a file that does not fit the VAE would stop the model from loading.
    static func inspectLatentPreview(_ folder: ModelFolder) -> ComponentSummary {
        let name = "latent preview"
        guard let channels = try? folder.config(VAEConfig.self, of: "vae").latentChannels else {
            return ComponentSummary(name: name, config: "- (no readable vae/config.json)", parameters: 0, dtypes: [:], problems: [])
        }
        let file = folder.component("vae").appendingPathComponent(LatentPreview.fileName)
        do {
            let map = try LatentPreview.forModel(vaeFolder: folder.component("vae"), latentChannels: channels)
            let config = FileManager.default.fileExists(atPath: file.path)
                ? "vae/\(LatentPreview.fileName): \(channels) channels to RGB"
                : map == nil ? "none: \(channels)-channel latents and no vae/\(LatentPreview.fileName) (previews decode with the VAE)"
                : "SD1.x's map (no vae/\(LatentPreview.fileName))"
            return ComponentSummary(name: name, config: config, parameters: 0, dtypes: [:], problems: [])
        } catch {
            return ComponentSummary(name: name, config: file.path, parameters: 0, dtypes: [:], problems: ["\(error)"])
        }
    }

    /// `scheduler/scheduler_config.json` through the loader the pipeline uses.
    static func inspectScheduler(_ folder: ModelFolder) -> ComponentSummary {
        let file = folder.component("scheduler").appendingPathComponent("scheduler_config.json")
        do {
            let c = try SchedulerConfig.load(from: file)
            let betas = c.trainedBetas.map { "\($0.count) trained betas" }
                ?? "\(c.betaSchedule.rawValue) betas \(c.betaStart)...\(c.betaEnd)"
            return ComponentSummary(name: "scheduler",
                                    config: "\(c.numTrainTimesteps) training steps, \(betas), \(c.timestepSpacing.rawValue) spacing, offset \(c.stepsOffset), \(c.predictionType.rawValue)",
                                    parameters: 0, dtypes: [:], problems: [])
        } catch {
            return ComponentSummary(name: "scheduler", config: "-", parameters: 0, dtypes: [:], problems: ["\(error)"])
        }
    }
}
