#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Formats
import Foundation
import Models
import Sampling
import TensorCore
import TestSupport
import Tokenizer
import XCTest

/// Issue [2.1]: every config value that would trap, abort or allocate without bound is refused
/// by `validate(file:)` with one line naming the file, the key and the allowed range; loading
/// and `inspect` run the same checks.
final class ConfigValidationTests: XCTestCase {
    var directory: URL!

    override func setUp() {
        directory = Fixtures.temporaryDirectory("config-validation")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The fixture's `component/config.json` with `changes` applied (nil removes a key).
    func json(_ component: String, _ changes: [String: Any?]) throws -> Data {
        let url = Fixtures.url("tiny-sd/\(component)/config.json")
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        for (key, value) in changes { object[key] = value }
        return try JSONSerialization.data(withJSONObject: object)
    }

    func decode<T: Decodable>(_ type: T.Type, _ data: Data, file: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try JSONConfig.decode(type, from: data, file: file, decoder: decoder)
    }

    /// Decoding `changes` on the fixture's config must fail naming the file and `mentions`.
    func assertRefused<T: Decodable>(_ type: T.Type, _ component: String, _ changes: [String: Any?], mentions: [String],
                                     file: StaticString = #filePath, line: UInt = #line) {
        let path = "/models/m/\(component)/config.json"
        do {
            let config = try decode(type, try json(component, changes), file: path)
            XCTFail("accepted \(changes): \(config)", file: file, line: line)
        } catch let error as FormatError {
            XCTAssertEqual(error.problem, .invalidConfig, "\(error)", file: file, line: line)
            let text = error.description
            XCTAssertTrue(text.hasPrefix(path + ": "), text, file: file, line: line)
            XCTAssertFalse(text.contains("\n"), text, file: file, line: line)
            for mention in mentions { XCTAssertTrue(text.contains(mention), "\(text) should mention \(mention)", file: file, line: line) }
        } catch {
            XCTFail("expected FormatError, got \(error)", file: file, line: line)
        }
    }

    func testFixtureAndMiniConfigsPass() throws {
        _ = try decode(UNetConfig.self, try json("unet", [:]), file: "unet")
        _ = try decode(VAEConfig.self, try json("vae", [:]), file: "vae")
        _ = try decode(CLIPTextConfig.self, try json("text_encoder", [:]), file: "text")
        let root = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        let mini = root.appendingPathComponent("Models/mini")
        if FileManager.default.fileExists(atPath: mini.path) {
            let folder = try ModelFolder(mini)
            _ = try folder.config(UNetConfig.self, of: "unet")
            _ = try folder.config(VAEConfig.self, of: "vae")
            _ = try folder.config(CLIPTextConfig.self, of: "text_encoder")
            _ = try folder.config(CLIPVisionConfig.self, of: "image_encoder")
        }
        let detector = root.appendingPathComponent("Models/face-detector/config.json")
        if FileManager.default.fileExists(atPath: detector.path) { _ = try FaceDetectorConfig.load(detector) }
        // SD1.5's own values.
        try UNetConfig.sd15.validate(file: "sd15")
        try VAEConfig.sd15.validate(file: "sd15")
        try CLIPTextConfig.sd15.validate(file: "sd15")
        try CLIPVisionConfig.vitL14.validate(file: "vit")
    }

    func testUNetValues() {
        assertRefused(UNetConfig.self, "unet", ["attention_head_dim": 0], mentions: ["key 'attention_head_dim[0]' = 0", "1...16384"])
        assertRefused(UNetConfig.self, "unet", ["attention_head_dim": 3],
                      mentions: ["attention_head_dim[0]' = 3", "must divide block_out_channels[0] = 16"])
        assertRefused(UNetConfig.self, "unet", ["attention_head_dim": [4, 4]],
                      mentions: ["attention_head_dim' = [4, 4]", "one head count per block_out_channels (3)"])
        assertRefused(UNetConfig.self, "unet", ["num_attention_heads": [4, 4, 0]], mentions: ["num_attention_heads[2]' = 0"])
        assertRefused(UNetConfig.self, "unet", ["norm_num_groups": 0], mentions: ["key 'norm_num_groups' = 0", "1...16384"])
        assertRefused(UNetConfig.self, "unet", ["norm_num_groups": 12],
                      mentions: ["key 'norm_num_groups' = 12", "block_out_channels[0] = 16 does not split into 12 groups"])
        assertRefused(UNetConfig.self, "unet", ["block_out_channels": [1_000_000_000, 32, 32]],
                      mentions: ["key 'block_out_channels[0]' = 1000000000", "1...16384"])
        assertRefused(UNetConfig.self, "unet", ["block_out_channels": [16, -32, 32]], mentions: ["block_out_channels[1]' = -32"])
        assertRefused(UNetConfig.self, "unet", ["block_out_channels": []], mentions: ["block_out_channels' = []", "needs 1...8 entries"])
        assertRefused(UNetConfig.self, "unet", ["in_channels": -4], mentions: ["key 'in_channels' = -4"])
        assertRefused(UNetConfig.self, "unet", ["cross_attention_dim": 0], mentions: ["key 'cross_attention_dim' = 0"])
        assertRefused(UNetConfig.self, "unet", ["layers_per_block": 100_000], mentions: ["key 'layers_per_block' = 100000", "1...256"])
        assertRefused(UNetConfig.self, "unet", ["down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"]],
                      mentions: ["down_block_types'", "one entry per block_out_channels (3)"])
        assertRefused(UNetConfig.self, "unet", ["up_block_types": ["UpBlock2D", "AttnUpBlock2D", "CrossAttnUpBlock2D"]],
                      mentions: ["up_block_types[1]' = \"AttnUpBlock2D\"", "CrossAttnUpBlock2D or UpBlock2D"])
        assertRefused(UNetConfig.self, "unet", ["norm_eps": 0], mentions: ["key 'norm_eps' = 0"])
        assertRefused(UNetConfig.self, "unet", ["freq_shift": 8], mentions: ["key 'freq_shift' = 8", "0...7"])
        assertRefused(UNetConfig.self, "unet", ["transformer_layers_per_block": 0], mentions: ["transformer_layers_per_block' = 0"])
    }

    func testVAEValues() {
        assertRefused(VAEConfig.self, "vae", ["norm_num_groups": 0], mentions: ["key 'norm_num_groups' = 0"])
        assertRefused(VAEConfig.self, "vae", ["norm_num_groups": 3], mentions: ["block_out_channels[0] = 8 does not split into 3 groups"])
        assertRefused(VAEConfig.self, "vae", ["block_out_channels": [8, 16, 1 << 40]], mentions: ["block_out_channels[2]'", "1...16384"])
        assertRefused(VAEConfig.self, "vae", ["out_channels": 4], mentions: ["key 'out_channels' = 4", "RGB"])
        assertRefused(VAEConfig.self, "vae", ["latent_channels": 0], mentions: ["key 'latent_channels' = 0"])
        assertRefused(VAEConfig.self, "vae", ["scaling_factor": -1], mentions: ["key 'scaling_factor' = -1"])
        assertRefused(VAEConfig.self, "vae", ["layers_per_block": 0], mentions: ["key 'layers_per_block' = 0"])
    }

    func testCLIPTextValues() {
        assertRefused(CLIPTextConfig.self, "text_encoder", ["vocab_size": 1000],
                      mentions: ["key 'bos_token_id' = 49406", "0...999", "below vocab_size 1000"])
        assertRefused(CLIPTextConfig.self, "text_encoder", ["max_position_embeddings": 1],
                      mentions: ["key 'max_position_embeddings' = 1", "77...16384"])
        assertRefused(CLIPTextConfig.self, "text_encoder", ["num_attention_heads": 5], mentions: ["must divide hidden_size = 32"])
        assertRefused(CLIPTextConfig.self, "text_encoder", ["num_attention_heads": 0], mentions: ["num_attention_heads' = 0"])
        assertRefused(CLIPTextConfig.self, "text_encoder", ["hidden_size": 1 << 30], mentions: ["key 'hidden_size' = 1073741824"])
        assertRefused(CLIPTextConfig.self, "text_encoder", ["num_hidden_layers": 0], mentions: ["num_hidden_layers' = 0", "1...256"])
        assertRefused(CLIPTextConfig.self, "text_encoder", ["pad_token_id": -1], mentions: ["pad_token_id' = -1"])
        assertRefused(CLIPTextConfig.self, "text_encoder", ["layer_norm_eps": 0], mentions: ["layer_norm_eps' = 0"])
    }

    func testCLIPVisionValues() throws {
        func refused(_ changes: [String: Int], _ mentions: [String], line: UInt = #line) {
            var object = ["hidden_size": 32, "num_attention_heads": 4, "image_size": 32, "patch_size": 8]
            object.merge(changes) { $1 }
            assertFormatError(.invalidConfig, file: "image_encoder/config.json", mentions: mentions, line: line) {
                try decode(CLIPVisionConfig.self, try JSONSerialization.data(withJSONObject: object), file: "image_encoder/config.json")
            }
        }
        refused(["num_channels": 4], ["num_channels' = 4"])
        refused(["patch_size": 0], ["patch_size' = 0", "1...32"])
        refused(["num_attention_heads": 3], ["must divide hidden_size = 32"])
        refused(["image_size": 4096, "patch_size": 4], ["gives 1024 patches per side"])
        refused(["num_hidden_layers": -1], ["num_hidden_layers' = -1"])
    }

    func assertFormatError<T>(_ problem: FormatError.Problem, file path: String, mentions: [String],
                              line: UInt = #line, _ body: () throws -> T) {
        do {
            _ = try body()
            XCTFail("accepted", line: line)
        } catch let error as FormatError {
            XCTAssertEqual(error.problem, problem, line: line)
            XCTAssertTrue(error.description.hasPrefix(path), error.description, line: line)
            for mention in mentions { XCTAssertTrue(error.description.contains(mention), "\(error) / \(mention)", line: line) }
        } catch {
            XCTFail("\(error)", line: line)
        }
    }

    // MARK: - Scheduler

    func testSchedulerValuesNameTheFile() throws {
        let url = directory.appendingPathComponent("scheduler_config.json")
        for (json, mention) in [(#"{"num_train_timesteps": 1000000000000}"#, "num_train_timesteps = 1000000000000: must lie in 2...100000"),
                                (#"{"steps_offset": 5000}"#, "steps_offset = 5000"),
                                (#"{"clip_sample_range": 0}"#, "clip_sample_range = 0.0"),
                                // fuzz-config: SD's betas over 26849 steps leave alphas_cumprod = 0 (DPM-Solver trapped).
                                (#"{"num_train_timesteps": 26849}"#, "num_train_timesteps = 26849: the noise schedule leaves no signal"),
                                (#"{"beta_start": 1e-9, "beta_schedule": "linear"}"#, "beta_start = 1e-09"),
                                (#"[1, 2]"#, "not a JSON object"),
                                (#"{"#, "not valid JSON")] {
            try Data(json.utf8).write(to: url)
            XCTAssertThrowsError(try SchedulerConfig.load(from: url), json) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix(url.path + ": "), text)
                XCTAssertTrue(text.contains(mention), "\(text) / \(mention)")
                XCTAssertFalse(text.contains("\n"))
            }
        }
    }

    func testSchedulerFIFOIsRefusedWithoutBlocking() throws {
        let fifo = directory.appendingPathComponent("scheduler_config.json")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        let done = expectation(description: "returned")
        DispatchQueue.global().async {
            do {
                _ = try SchedulerConfig.load(from: fifo)
                XCTFail("read a FIFO")
            } catch {
                XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
            }
            done.fulfill()
        }
        wait(for: [done], timeout: 5)
    }

    // MARK: - Adapter metadata

    func testAdapterMetadataRanges() throws {
        func refused(_ raw: [String: String], _ mention: String, line: UInt = #line) {
            XCTAssertThrowsError(try AdapterMetadata(raw, file: "/m/photoverse-adapter.safetensors"), line: line) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix("/m/photoverse-adapter.safetensors: metadata '"), text, line: line)
                XCTAssertTrue(text.contains(mention), "\(text) / \(mention)", line: line)
            }
        }
        refused(["encoder_layers": "-5,4"], "layer -5: each must be -1 (the last hidden state) or 0...256")
        refused(["encoder_layers": "1000000"], "layer 1000000")
        refused(["encoder_layers": "4", "tokens": "0"], "'tokens' = '0'")
        refused(["default_num_words": "9"], "'default_num_words' = '9': must lie in 1...tokens (5)")
        refused(["placeholder": ""], "'placeholder'")
        refused(["placeholder": "S*\u{1B}[2J"], "'placeholder' = 'S*\\e[2J'")
        refused(["image_std": "0.5,0,0.5"], "'image_std'")
        refused(["image_size": "100000"], "'image_size' = '100000'")
        refused(["lora_rank": "-1"], "'lora_rank'")
        XCTAssertNoThrow(try AdapterMetadata(AdapterMetadata().asStrings, file: "x"))
        // fuzz-adapter-metadata: asStrings dropped example_prompt and domain, so a round trip lost them.
        var metadata = try AdapterMetadata(["example_prompt": "a photo of S* smiling", "domain": "drawn faces"], file: "x")
        XCTAssertEqual(try AdapterMetadata(metadata.asStrings, file: "x"), metadata)
        metadata.imageMean = [0.1, 0.2, 0.30000001]
        XCTAssertEqual(try AdapterMetadata(metadata.asStrings, file: "x"), metadata)
    }

    // MARK: - Face detector

    func testFaceDetectorLayoutIsChecked() throws {
        let root = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        let source = root.appendingPathComponent("Models/face-detector/config.json")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: source.path), "no face detector")
        let original = try String(contentsOf: source, encoding: .utf8)
        let url = directory.appendingPathComponent("config.json")
        func refused(_ from: String, _ to: String, _ mention: String, line: UInt = #line) throws {
            XCTAssertTrue(original.contains(from), from, line: line)
            try original.replacingOccurrences(of: from, with: to).write(to: url, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try FaceDetectorConfig.load(url), line: line) { error in
                XCTAssertTrue("\(error)".hasPrefix(url.path + ": "), "\(error)", line: line)
                XCTAssertTrue("\(error)".contains(mention), "\(error) / \(mention)", line: line)
            }
        }
        try refused("\"grid\": 16", "\"grid\": 15", "heads[0].grid' = 15")
        try refused("\"weights_file\": \"blazeface-short-range.safetensors\"", "\"weights_file\": \"../../etc/passwd\"",
                    "must be a file name in the detector's folder")
        try refused("\"input_size\": 128", "\"input_size\": 0", "key 'input_size' = 0")
        try refused("\"num_layers\": 4", "\"num_layers\": 3", "anchors.strides")
        try refused("\"x_scale\": 128.0", "\"x_scale\": 0.0", "decoding.x_scale")
        try refused("\"num_coords\": 16", "\"num_coords\": 2", "coords")
    }

    // MARK: - Through the loader and inspect

    /// A copy of tiny-sd with `component`'s config changed.
    func brokenFolder(_ component: String, _ changes: [String: Any?]) throws -> URL {
        let folder = directory.appendingPathComponent("model")
        let fm = FileManager.default
        try fm.createDirectory(at: folder, withIntermediateDirectories: false)
        for item in try fm.contentsOfDirectory(atPath: Fixtures.url("tiny-sd").path) {
            // tokenizer/ is a relative symlink: copy what it points to.
            try fm.copyItem(at: Fixtures.url("tiny-sd/\(item)").resolvingSymlinksInPath(), to: folder.appendingPathComponent(item))
        }
        let configURL = folder.appendingPathComponent("\(component)/config.json")
        let data = try json(component, changes)
        try FileManager.default.removeItem(at: configURL)
        try data.write(to: configURL)
        return folder
    }

    func testLoaderAndInspectReportTheSameProblem() throws {
        let folder = try ModelFolder(try brokenFolder("unet", ["attention_head_dim": 0]))
        XCTAssertThrowsError(try folder.loadUNet()) { error in
            XCTAssertTrue("\(error)".contains("unet/config.json: key 'attention_head_dim[0]' = 0"), "\(error)")
        }
        let unet = folder.inspect().first { $0.name == "unet" }!
        XCTAssertEqual(unet.problems.count, 1)
        XCTAssertTrue(unet.problems[0].contains("unet/config.json: key 'attention_head_dim[0]' = 0"), unet.problems[0])
    }

    func testTokenizerIdsMustFitTheTextEncoder() throws {
        // A text encoder config whose special ids fit but whose vocabulary is smaller than the tokenizer's.
        let folder = try ModelFolder(try brokenFolder("text_encoder", ["vocab_size": 49_407, "eos_token_id": 2, "bos_token_id": 1]))
        XCTAssertThrowsError(try folder.loadTokenizer()) { error in
            XCTAssertTrue("\(error)".contains("text_encoder/config.json: key 'vocab_size' = 49407: the tokenizer has token id 49407"), "\(error)")
        }
        let tokenizer = folder.inspect().first { $0.name == "tokenizer" }!
        XCTAssertTrue(tokenizer.problems.first?.contains("the tokenizer has token id 49407") == true, "\(tokenizer.problems)")
        XCTAssertNoThrow(try ModelFolder(Fixtures.url("tiny-sd")).loadTokenizer())
    }

    func testHugeChannelsAgainstASmallFileStopEarly() throws {
        // In range, but the stand-ins for the tiny file's tensors would be many gigabytes.
        let folder = try ModelFolder(try brokenFolder("unet", ["block_out_channels": [16384, 16384, 16384], "norm_num_groups": 8]))
        XCTAssertThrowsError(try folder.loadUNet()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("stopped checking"), text)
            XCTAssertTrue(text.contains("conv_in.weight has shape"), text)
        }
    }

    func testInspectReportsNonFiniteWeightsByName() throws {
        let folder = try brokenFolder("vae", [:])
        let weights = folder.appendingPathComponent("vae/diffusion_pytorch_model.safetensors")
        let file = try SafetensorsFile(url: weights)
        var tensors: [String: Tensor] = [:]
        for name in file.tensorNames { tensors[name] = try file.tensor(name) }
        let poisoned = "decoder.conv_out.bias"
        let bias = tensors[poisoned]!.copy()
        bias.data[0] = .nan
        bias.data[1] = .infinity
        tensors[poisoned] = bias
        try FileManager.default.removeItem(at: weights)
        try SafetensorsWriter.write(tensors, dtype: .f32, to: weights)
        let vae = try ModelFolder(folder).inspect().first { $0.name == "vae" }!
        XCTAssertEqual(vae.problems, ["\(poisoned) has 2 non-finite values (NaN or Inf)"])
    }

    func testDuplicateTensorAcrossShardsIsRefused() throws {
        let folder = try brokenFolder("vae", [:])
        let shard = folder.appendingPathComponent("vae/extra.safetensors")
        try SafetensorsWriter.write(["decoder.conv_out.bias": Tensor(shape: [3])], to: shard)
        XCTAssertThrowsError(try ModelFolder(folder).loadVAE()) { error in
            XCTAssertTrue("\(error)".contains("tensor 'decoder.conv_out.bias' is also in"), "\(error)")
        }
    }
}
