import ArgumentParser
import Foundation
import Models
import TensorCore

/// Benchmarks (never tests): medians of repeated runs, printed as GFLOP/s.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure engine speed: gemm, conv, or a full-size SD1.5 unet, vae, taesd, text pass.",
        discussion: "Compare against PyTorch with training/bench/bench_torch.py, run in the same session.")

    enum Subject: String, ExpressibleByArgument, CaseIterable {
        case gemm, conv, unet, vae, taesd, text
    }

    @Argument(help: "What to measure: \(Subject.allCases.map(\.rawValue).joined(separator: ", ")).")
    var subject: Subject

    @Option(help: "Timed repetitions (the median is reported).")
    var repeats: Int = 5

    @Option(help: "Batch size (conv and unet; 2 is a guided SD step).")
    var batch: Int = 2

    @Option(help: "Image size in pixels for unet, vae and taesd (latents are 1/8).")
    var size: Int = 512

    @Flag(help: "conv: time the im2col + GEMM path instead of Winograd F(4x4, 3x3).")
    var im2col = false

    @Option(help: "conv: input channels.")
    var channels = 320

    @Option(help: "conv: output channels (default: as many as in).")
    var outChannels: Int?

    @Option(help: "conv: input height and width.")
    var side = 64

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        guard channels >= 1, (outChannels ?? 1) >= 1, side >= 1 else {
            throw ValidationError("--channels, --out-channels and --side must be at least 1")
        }
    }

    func run() throws {
        switch subject {
        case .gemm: benchGemm()
        case .conv: benchConv()
        case .unet: try benchUNet()
        case .vae: try benchVAE()
        case .taesd: try benchTAESD()
        case .text: try benchText()
        }
    }

    private func benchGemm() {
        let n = 2048
        let a = Tensor.seededUniform(shape: [n, n], seed: 1)
        let b = Tensor.seededUniform(shape: [n, n], seed: 2)
        let flops = 2.0 * Double(n * n * n)
        let seconds = Stopwatch.median(repeats: repeats) { _ = a.matmul(b) }
        report("sgemm \(n)x\(n)x\(n)", seconds: seconds, flops: flops)
    }

    private func benchConv() {
        let size = side, outputs = outChannels ?? channels
        let x = Tensor.seededUniform(shape: [batch, channels, size, size], seed: 3)
        let w = Tensor.seededUniform(shape: [outputs, channels, 3, 3], seed: 4)
        let bias = Tensor.seededUniform(shape: [outputs], seed: 5)
        let flops = 2.0 * Double(batch * channels * outputs * 9 * size * size)
        let seconds = Stopwatch.median(repeats: repeats) {
            _ = x.conv2d(weight: w, bias: bias, padding: (1, 1), winograd: !im2col)
        }
        // GFLOP/s counts the direct convolution's work, so the two paths compare directly.
        report("conv3x3 \(channels)->\(outputs) @\(size)x\(size) batch \(batch) (\(im2col ? "im2col" : "Winograd where it pays"))",
               seconds: seconds, flops: flops)
    }

    /// One full-size SD1.5 UNet pass with random weights (no file needed).
    private func benchUNet() throws {
        let unet = try UNet2DConditionModel(config: .sd15, weights: WeightLoader(randomSeed: 1).root)
        let latents = Tensor.seededUniform(shape: [batch, 4, size / 8, size / 8], seed: 6)
        let text = Tensor.seededUniform(shape: [batch, 77, 768], seed: 7)
        // As the pipeline's denoising loop runs it: freed large buffers reused from pass to pass.
        let seconds = LargeBlockCache.reusingFreedBuffers {
            Stopwatch.median(repeats: repeats) { _ = unet(latents, timestep: 500, encoderHiddenStates: text) }
        }
        report("SD1.5 unet \(size)x\(size) batch \(batch)", seconds: seconds, flops: nil)
    }

    /// One full-size SD1.5 VAE decode with random weights.
    private func benchVAE() throws {
        let vae = try AutoencoderKL(config: .sd15, weights: WeightLoader(randomSeed: 2).root)
        let latents = Tensor.seededUniform(shape: [1, 4, size / 8, size / 8], seed: 8)
        let seconds = Stopwatch.median(repeats: repeats) { _ = vae.decode(latents) }
        report("SD1.5 vae decode \(size)x\(size)", seconds: seconds, flops: nil)
    }

    /// One TAESD decode (madebyollin/taesd's config, random weights): SD1.5 latents to pixels.
    private func benchTAESD() throws {
        let tiny = try AutoencoderTiny(config: .taesd, weights: WeightLoader(randomSeed: 4).root)
        let latents = Tensor.seededUniform(shape: [1, 4, size / 8, size / 8], seed: 9)
        let seconds = Stopwatch.median(repeats: repeats) { _ = try! tiny.decode(latents) }
        report("TAESD decode \(size)x\(size)", seconds: seconds, flops: nil)
    }

    /// One SD1.5 text-encoder pass (batch 2, 77 tokens) with random weights.
    private func benchText() throws {
        let encoder = try CLIPTextModel(config: .sd15, weights: WeightLoader(randomSeed: 3).root)
        let ids = Array(repeating: Array(repeating: 49407, count: 77), count: 2)
        let seconds = Stopwatch.median(repeats: repeats) { _ = encoder(ids) }
        report("SD1.5 text encoder batch 2", seconds: seconds, flops: nil)
    }

    private func report(_ name: String, seconds: Double, flops: Double?) {
        var line = String(format: "%@: median %.2f ms", name, seconds * 1000)
        if let flops { line += String(format: ", %.1f GFLOP/s", flops / seconds / 1e9) }
        line += " (\(repeats) runs, \(Parallel.workers) threads)"
        print(line)
    }
}
