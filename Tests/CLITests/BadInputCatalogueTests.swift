import Foundation
import Formats
import TensorCore
import TestSupport
import XCTest

/// Bad inputs through the real binary: every one is refused with its exit status and one
/// readable line on stderr (no control characters, no stack), never a crash, a hang, a black
/// image or a lost file. Each case names what the message must mention.
final class BadInputCatalogueTests: XCTestCase {
    struct Case {
        let arguments: [String]
        let mentions: String
        var status: Int32 = 1
    }

    var dir: URL!
    let model = Fixtures.url("tiny-sd").path
    let golden = Fixtures.url("photoverse-golden")

    override func setUpWithError() throws {
        dir = Fixtures.temporaryDirectory("cli-bad")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: dir)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func fifo(_ name: String) -> String {
        let file = path(name)
        XCTAssertEqual(mkfifo(file, 0o600), 0)
        return file
    }

    func noiseFile(_ name: String, shape: [Int], value: Float = 0.5, poison: Float? = nil) throws -> String {
        var values = Array(repeating: value, count: shape.reduce(1, *))
        if let poison { values[values.count / 2] = poison }
        try SafetensorsWriter.write(["latents": Tensor(shape: shape, values: values)], to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    /// A kohya LoRA for the tiny UNet's first to_q (16 -> 16) with the given factor shapes.
    func loraFile(_ name: String, down: [Int], up: [Int], poison: Float? = nil) throws -> String {
        let key = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"
        let downTensor = Tensor(shape: down, repeating: 0.1)
        if let poison { downTensor.data[0] = poison }
        try SafetensorsWriter.write([key + ".lora_down.weight": downTensor, key + ".lora_up.weight": Tensor(shape: up, repeating: 0.1)],
                                    to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    /// The tiny model with one weight of the UNet's output turned into NaN.
    func poisonedModel() throws -> String {
        let copy = dir.appendingPathComponent("poisoned")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        for part in ["model_index.json", "scheduler", "text_encoder", "tokenizer", "unet", "vae"] {
            try FileManager.default.copyItem(at: URL(fileURLWithPath: model).appendingPathComponent(part).resolvingSymlinksInPath(),
                                             to: copy.appendingPathComponent(part))
        }
        let weights = copy.appendingPathComponent("unet/diffusion_pytorch_model.safetensors")
        let file = try SafetensorsFile(url: weights)
        var tensors: [String: Tensor] = [:]
        for name in file.tensorNames { tensors[name] = try file.tensor(name) }
        let bias = tensors["conv_out.bias"]!
        var values = bias.scalars
        values[0] = .nan
        tensors["conv_out.bias"] = Tensor(shape: bias.shape, values: values)
        try FileManager.default.removeItem(at: weights)
        try SafetensorsWriter.write(tensors, to: weights)
        return copy.path
    }

    /// The tiny model whose text encoder's vocabulary is one token short of the tokenizer's ids
    /// (special ids moved so that the config alone is consistent).
    func shortVocabularyModel() throws -> String {
        let copy = dir.appendingPathComponent("short-vocabulary")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        for part in ["model_index.json", "scheduler", "text_encoder", "tokenizer", "unet", "vae"] {
            try FileManager.default.copyItem(at: URL(fileURLWithPath: model).appendingPathComponent(part).resolvingSymlinksInPath(),
                                             to: copy.appendingPathComponent(part))
        }
        let config = copy.appendingPathComponent("text_encoder/config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as! [String: Any]
        json["vocab_size"] = 49_407
        json["eos_token_id"] = 2
        json["bos_token_id"] = 1
        try JSONSerialization.data(withJSONObject: json).write(to: config)
        return copy.path
    }

    /// The tiny model without its taesd/ (every other part linked), and TAESD folders whose config
    /// has `changes` (the fixture's weights beside it).
    func taesdCases(_ base: [String]) throws -> [Case] {
        let bare = dir.appendingPathComponent("no-taesd")
        try FileManager.default.createDirectory(at: bare, withIntermediateDirectories: true)
        for part in ["model_index.json", "scheduler", "text_encoder", "tokenizer", "unet", "vae"] {
            try FileManager.default.createSymbolicLink(at: bare.appendingPathComponent(part),
                                                       withDestinationURL: URL(fileURLWithPath: model).appendingPathComponent(part).resolvingSymlinksInPath())
        }
        func taesd(_ name: String, _ changes: [String: Any]) throws -> String {
            let folder = dir.appendingPathComponent(name), source = Fixtures.url("tiny-taesd")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: source.appendingPathComponent("diffusion_pytorch_model.safetensors"),
                                             to: folder.appendingPathComponent("diffusion_pytorch_model.safetensors"))
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as! [String: Any]
            for (key, value) in changes { object[key] = value }
            try JSONSerialization.data(withJSONObject: object).write(to: folder.appendingPathComponent("config.json"))
            return folder.path
        }
        let plain = ["generate", "--model", bare.path, "--prompt", "a fox", "--steps", "2"]
        return [
            Case(arguments: plain + ["--decoder", "taesd"], mentions: "--decoder taesd: no TAESD is loaded: the model folder has no taesd/"),
            Case(arguments: plain + ["--preview", "taesd", "--preview-dir", path("previews")], mentions: "--preview taesd: no TAESD is loaded"),
            Case(arguments: base + ["--decoder", "tiny"], mentions: "'tiny' is invalid for '--decoder", status: 64),
            Case(arguments: base + ["--preview", "sixel"], mentions: "'sixel' is invalid for '--preview", status: 64),
            Case(arguments: base + ["--decoder", "taesd", "--taesd", path("missing-taesd")], mentions: "missing-taesd: no such TAESD folder"),
            Case(arguments: base + ["--decoder", "taesd", "--taesd", "\(model)/vae"],
                 mentions: "vae/config.json: key '_class_name' = \"AutoencoderKL\": must be AutoencoderTiny"),
            Case(arguments: base + ["--decoder", "taesd", "--taesd", try taesd("zero", ["latent_channels": 0])],
                 mentions: "zero/config.json: key 'latent_channels' = 0"),
            Case(arguments: base + ["--decoder", "taesd", "--taesd", try taesd("sd3", ["latent_channels": 16])],
                 mentions: "sd3/config.json: TAESD latent_channels 16 does not match the model's 4"),
            Case(arguments: base + ["--decoder", "taesd", "--taesd", try taesd("x4", ["upsampling_scaling_factor": 4])],
                 mentions: "x4/config.json: this TAESD decodes 64 pixels per latent, the model's VAE 8"),
            Case(arguments: base + ["--decoder", "taesd", "--taesd", try taesd("bilinear", ["upsample_fn": "bilinear"])],
                 mentions: "bilinear/config.json: key 'upsample_fn' = \"bilinear\": must be nearest"),
            Case(arguments: base + ["--decoder", "taesd", "--taesd", try taesd("widths", ["decoder_block_out_channels": [8, 8, 16, 8]])],
                 mentions: "widths/config.json: key 'decoder_block_out_channels' = [8, 8, 16, 8]"),
            Case(arguments: base + ["--preview-dir", model], mentions: "already exists; choose another --preview-dir"),
            Case(arguments: base + ["--preview", "none", "--preview-dir", path("none")], mentions: "--preview-dir with --preview none"),
        ]
    }

    /// dlib-face folders made of the tiny fixtures: a good one, one whose resnet.json names an
    /// unknown operation, one whose landmarks file is cut short.
    func badFaceScorers() throws -> (good: String, badConfig: String, badLandmarks: String) {
        let fixtures = Fixtures.url("dlib-face")
        func folder(_ name: String) throws -> URL {
            let url = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            for (from, to) in [("tiny-resnet.json", "resnet.json"), ("tiny-resnet.safetensors", "resnet.safetensors"),
                               ("tiny-landmarks.safetensors", "landmarks.safetensors")] {
                try FileManager.default.copyItem(at: fixtures.appendingPathComponent(from), to: url.appendingPathComponent(to))
            }
            return url
        }
        let good = try folder("good-scorer"), badConfig = try folder("bad-config"), badLandmarks = try folder("bad-landmarks")
        let config = try String(contentsOf: badConfig.appendingPathComponent("resnet.json"), encoding: .utf8)
        try config.replacingOccurrences(of: "\"op\": \"affine\"", with: "\"op\": \"gelu\"")
            .write(to: badConfig.appendingPathComponent("resnet.json"), atomically: true, encoding: .utf8)
        let landmarks = badLandmarks.appendingPathComponent("landmarks.safetensors")
        try Data(try Data(contentsOf: landmarks).prefix(200)).write(to: landmarks)
        return (good.path, badConfig.path, badLandmarks.path)
    }

    func testEveryBadInputIsOneClearLine() throws {
        let base = ["generate", "--model", model, "--prompt", "a fox", "--steps", "2"]
        let adapter = ["--adapter", golden.appendingPathComponent("adapter.safetensors").path, "--image-encoder", golden.path]
        let reference = golden.appendingPathComponent("reference.png").path
        let existing = path("existing.png")
        try PNGCodec.write(RGBImage(width: 2, height: 2, color: .white), to: URL(fileURLWithPath: existing))
        let existingBytes = try Data(contentsOf: URL(fileURLWithPath: existing))
        let notes = path("notes.txt")
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: notes))
        let bigImage = path("big.png")
        try PNGCodec.write(RGBImage(width: 32, height: 32, color: .white), to: URL(fileURLWithPath: bigImage))
        let plainPNG = path("plain.png")
        try PNGCodec.write(RGBImage(width: 4, height: 4, color: .black), to: URL(fileURLWithPath: plainPNG))
        let escapeName = path("\u{1B}[31mred\u{07}.png")
        let pickle = path("model.ckpt")
        try Data("not really".utf8).write(to: URL(fileURLWithPath: pickle))
        let scorers = try badFaceScorers()
        let cases: [Case] = [
            // numbers
            Case(arguments: base + ["--guidance", "nan"], mentions: "--guidance nan is not a finite number"),
            Case(arguments: base + ["--guidance", "inf"], mentions: "--guidance inf is not a finite number"),
            Case(arguments: base + ["--guidance=-1"], mentions: "--guidance -1.0 is outside 0.0...100.0"),
            Case(arguments: base + ["--guidance", "1e9"], mentions: "--guidance"),
            Case(arguments: base + ["--steps", "0"], mentions: "--steps 0 is outside 1...1000"),
            Case(arguments: base + ["--steps", "100000"], mentions: "--steps 100000 is outside 1...1000"),
            Case(arguments: base + ["--steps", "abc"], mentions: "'abc' is invalid for '--steps", status: 64),
            Case(arguments: base + ["--width", "65536"], mentions: "--width 65536 is outside 1...2048"),
            Case(arguments: base + ["--width=-64"], mentions: "--width -64 is outside"),
            Case(arguments: base + ["--height", "0"], mentions: "--height 0 is outside"),
            Case(arguments: base + ["--width", "100"], mentions: "--width 100 is not a multiple of"),
            Case(arguments: base + ["--seed=-1"], mentions: "'-1' is invalid for '--seed", status: 64),
            Case(arguments: base + ["--scheduler", "bogus"], mentions: "'bogus' is invalid for '--scheduler", status: 64),
            Case(arguments: base + ["--bogus"], mentions: "Unknown option '--bogus'", status: 64),
            Case(arguments: ["generate", "--model", model], mentions: "--prompt is required"),
            Case(arguments: ["generate", "--prompt", "x"], mentions: "--model is required"),
            // img2img
            Case(arguments: base + ["--strength", "0"], mentions: "--strength 0.0 is outside (0, 1]"),
            Case(arguments: base + ["--strength", "1.5"], mentions: "--strength 1.5 is outside (0, 1]"),
            Case(arguments: base + ["--strength", "nan"], mentions: "--strength nan"),
            Case(arguments: base + ["--strength", "0.5"], mentions: "--strength needs --init-image, or a --reference"),
            Case(arguments: base + ["--init-image", bigImage], mentions: "big.png: image is 32x32, expected 64x64"),
            Case(arguments: base + ["--init-image", notes], mentions: "notes.txt"),
            Case(arguments: base + ["--init-image", fifo("init.fifo")], mentions: "init.fifo"),
            // noise
            Case(arguments: base + ["--noise", fifo("noise.fifo")], mentions: "noise.fifo"),
            Case(arguments: base + ["--noise", try noiseFile("nan.safetensors", shape: [1, 4, 8, 8], poison: .nan)],
                 mentions: "nan.safetensors: tensor 'latents' holds NaN or infinite values"),
            Case(arguments: base + ["--noise", try noiseFile("inf.safetensors", shape: [1, 4, 8, 8], poison: .infinity)],
                 mentions: "inf.safetensors: tensor 'latents' holds NaN or infinite values"),
            Case(arguments: base + ["--noise", try noiseFile("shape.safetensors", shape: [1, 4, 5, 5])], mentions: "noise has shape [1, 4, 5, 5]"),
            Case(arguments: base + ["--noise", path("missing.safetensors")], mentions: "missing.safetensors"),
            Case(arguments: base + ["--noise", notes], mentions: "notes.txt"),
            // personalization knobs
            Case(arguments: base + ["--text-weight", "nan"], mentions: "--text-weight nan is not a finite number"),
            Case(arguments: base + ["--image-weight", "inf"], mentions: "--image-weight inf is not a finite number"),
            Case(arguments: base + ["--lora-scale=-inf"], mentions: "--lora-scale -inf is not a finite number"),
            Case(arguments: base + ["--identity-guidance", "nan"], mentions: "--identity-guidance nan"),
            Case(arguments: base + ["--image-start", "2"], mentions: "--image-start 2.0 is outside 0...1"),
            Case(arguments: base + ["--image-start", "0.8", "--image-end", "0.2"], mentions: "--image-start 0.8 is after --image-end 0.2"),
            Case(arguments: base + ["--tokens", "0"], mentions: "--tokens 0 is outside"),
            Case(arguments: base + adapter + ["--reference", reference, "--crop", "none", "--tokens", "9"], mentions: "pseudo-words m = 9 is outside 1...3"),
            // references and crops
            Case(arguments: base + adapter + ["--reference", reference, "--crop", "9223372036854775807,0,1,1"],
                 mentions: "x 9223372036854775807 is beyond"),
            Case(arguments: base + adapter + ["--reference", reference, "--crop", "1,2,3"], mentions: "--crop '1,2,3'"),
            Case(arguments: base + adapter + ["--reference", reference, "--crop", "abc"], mentions: "--crop 'abc'"),
            Case(arguments: base + adapter + ["--reference", reference, "--crop", "0,0,5000,5000"], mentions: "reaches outside"),
            Case(arguments: base + adapter + ["--reference", fifo("reference.fifo")], mentions: "reference.fifo"),
            Case(arguments: base + adapter + ["--reference", path("missing.png")], mentions: "missing.png"),
            Case(arguments: base + adapter + ["--reference", notes, "--crop", "none"], mentions: "notes.txt"),
            Case(arguments: base + adapter + ["--reference", escapeName], mentions: "\\e[31mred\\u{7}.png"),
            Case(arguments: base + ["--reference", reference], mentions: "no PhotoVerse adapter"),
            Case(arguments: base + adapter, mentions: "need at least one --reference"),
            // LoRA files (--lora FILE[:SCALE])
            Case(arguments: base + ["--lora", path("missing-lora.safetensors")], mentions: "missing-lora.safetensors: cannot open"),
            Case(arguments: base + ["--lora", fifo("lora.fifo")], mentions: "lora.fifo: is a named pipe"),
            Case(arguments: base + ["--lora", notes], mentions: "notes.txt"),
            Case(arguments: base + ["--lora", try loraFile("good.safetensors", down: [4, 16], up: [16, 4]) + ":nan"],
                 mentions: "good.safetensors: scale nan is not a finite number"),
            Case(arguments: base + ["--lora", path("good.safetensors") + ":11"], mentions: "good.safetensors: scale 11.0 is outside -10.0...10.0"),
            Case(arguments: base + ["--lora", path("good.safetensors"), "--lora", path("good.safetensors") + ":0.5"],
                 mentions: "good.safetensors is given twice"),
            Case(arguments: base + ["--lora", try loraFile("rank.safetensors", down: [4, 16], up: [16, 3])],
                 mentions: "rank.safetensors: 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_up.weight' has shape [16, 3]"),
            Case(arguments: base + ["--lora", try loraFile("wide.safetensors", down: [4, 32], up: [16, 4])],
                 mentions: "wide.safetensors: 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight' has shape [4, 32]"),
            Case(arguments: base + ["--lora", try loraFile("nan-lora.safetensors", down: [4, 16], up: [16, 4], poison: .nan)],
                 mentions: "nan-lora.safetensors: 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight' holds 1 non-finite value"),
            Case(arguments: base + ["--lora", try noiseFile("not-lora.safetensors", shape: [1, 4, 8, 8])],
                 mentions: "not-lora.safetensors: 'latents' is not a LoRA tensor"),
            // models and outputs
            Case(arguments: ["generate", "--model", path("missing-model"), "--prompt", "x"], mentions: "missing-model"),
            Case(arguments: ["generate", "--model", notes, "--prompt", "x"], mentions: "notes.txt"),
            Case(arguments: ["generate", "--model", pickle, "--prompt", "x", "--config", model], mentions: "convert"),
            Case(arguments: ["generate", "--model", try poisonedModel(), "--prompt", "x", "--steps", "2", "--out", path("black.png")],
                 mentions: "step 1/2 produced non-finite latents"),
            Case(arguments: ["generate", "--model", try shortVocabularyModel(), "--prompt", "x", "--steps", "2"],
                 mentions: "key 'vocab_size' = 49407: the tokenizer has token id 49407"),
            Case(arguments: base + ["--out", existing], mentions: "already exists"),
            Case(arguments: base + ["--latents-out", existing], mentions: "already exists"),
            Case(arguments: ["generate", "--load", plainPNG], mentions: "no PhotoVerse parameters in this PNG"),
            Case(arguments: ["generate", "--load", path("missing.png")], mentions: "missing.png"),
            // face scorers
            Case(arguments: base + ["--face-scorer", path("no-scorer")], mentions: "no-scorer/resnet.json: not found"),
            Case(arguments: base + ["--face-scorer", scorers.badConfig], mentions: "key 'layers[1].op' = \"gelu\": unknown operation"),
            Case(arguments: base + ["--face-scorer", scorers.badLandmarks], mentions: "landmarks.safetensors"),
            Case(arguments: ["face-match", path("missing.png"), reference, "--face-scorer", scorers.good], mentions: "missing.png"),
            Case(arguments: ["face-match", reference, reference], mentions: "no face scorer: give --face-scorer FOLDER"),
        ] + (try taesdCases(base))
        XCTAssertGreaterThanOrEqual(cases.count, 40)
        for item in cases {
            let run = try PhotoverseBinary.run(item.arguments, in: dir)
            let shown = item.arguments.dropFirst(1).joined(separator: " ").terminalSafe
            XCTAssertEqual(run.status, item.status, "\(shown): \(run.stderr)")
            let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
            XCTAssertEqual(lines.count, 1, "\(shown): one line expected, got:\n\(run.stderr.terminalSafe)")
            XCTAssertTrue(run.stderr.contains(item.mentions), "\(shown): expected '\(item.mentions)' in \(run.stderr.terminalSafe)")
            XCTAssertFalse(run.stderr.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "\(shown): control characters in \(run.stderr.terminalSafe)")
            XCTAssertEqual(run.stdout, "", "\(shown): nothing written")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: existing)), existingBytes, "an existing file is never touched")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("black.png")), "no black image for NaN weights")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path), "no result written")
    }
}
