import Foundation
import Formats
import Models
@testable import Pipeline
import Sampling
import TensorCore
import TestSupport
import XCTest

/// LoRA files against diffusers' `load_lora_weights` + `set_adapters` (never fused) on the tiny
/// model: a kohya file (every Linear and Conv2d of the UNet, LoCon 3x3 convolutions, alphas;
/// every text-encoder Linear) and a peft file (a subset, text encoder included), alone and
/// together with their own scales. The goldens (training/fixtures/make_lora_fixtures.py) were
/// also checked there against hand-merged weights. All cases run on one pipeline: the scales
/// change between runs without the model being loaded again.
final class LoRAParityTests: XCTestCase {
    static let folder = "lora-golden"
    static let pipeline = try! GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"), faces: shippedFaces)
    let golden = try! SafetensorsFile(url: Fixtures.url("\(folder)/golden.safetensors"))
    var pipeline: GenerationPipeline { Self.pipeline }

    struct Case: Decodable {
        struct File: Decodable { let file: String; let scale: Float }
        let name: String, loras: [File], scheduler: String, steps: Int, guidance: Float, seed: UInt64?
        let prompt: String, negativePrompt: String, noise: String, latents: String
    }

    struct Document: Decodable {
        let cases: [Case]
        let bothScales: [String: Float]
        let unetTimestep: Float
    }

    func document() throws -> Document {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Document.self, from: Data(contentsOf: Fixtures.url("\(Self.folder)/cases.json")))
    }

    func file(_ name: String) throws -> LoRAFile {
        try LoRAFile(url: Fixtures.url("\(Self.folder)/\(name).safetensors"), unet: pipeline.unet.loraTargets,
                     textEncoder: pipeline.textEncoder.loraTargets)
    }

    func bothDeltas() throws -> (unet: LayerDeltas, textEncoder: LayerDeltas) {
        let scales = try document().bothScales
        return LoRAFile.deltas(try ["kohya", "peft"].map { (try file($0), scales[$0]!) })
    }

    /// The kohya file names every Linear and Conv2d of the UNet and every Linear of the text
    /// encoder, so each kohya spelling maps to a layer here.
    func testKohyaNamesMapToEveryLayer() throws {
        let kohya = try file("kohya")
        XCTAssertEqual(kohya.unet.count, pipeline.unet.loraTargets.layers.count)
        XCTAssertEqual(kohya.textEncoder.count, pipeline.textEncoder.loraTargets.layers.count)
        XCTAssertEqual(Set(kohya.unet.map(\.path)).count, kohya.unet.count)
        // LoCon: a 3x3 down convolution and a 1x1 up; linear layers 2/4, convolutions 1/2 (alpha/rank)
        let conv1 = try XCTUnwrap(kohya.unet.first { $0.path == "down_blocks.0.resnets.0.conv1" })
        XCTAssertEqual(conv1.down.shape, [2, 16, 3, 3])
        XCTAssertEqual(conv1.up.shape, [16, 2, 1, 1])
        XCTAssertEqual(conv1.scale, 0.5)
        let toQ = try XCTUnwrap(kohya.unet.first { $0.path == "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q" })
        XCTAssertEqual(toQ.scale, 0.5)
        let peft = try file("peft")
        XCTAssertTrue(peft.textEncoder.allSatisfy { $0.scale == 1 })
        XCTAssertFalse(peft.textEncoder.isEmpty)
    }

    /// kohya_ldm.safetensors holds kohya.safetensors' UNet entries under the original (LDM) module
    /// names, renamed by the fixture script's own converter: the same factors land on the same layers.
    func testOriginalLayoutKohyaNamesGiveTheSameLayers() throws {
        let kohya = try file("kohya"), ldm = try file("kohya_ldm")
        XCTAssertTrue(ldm.textEncoder.isEmpty)
        XCTAssertEqual(ldm.unet.map(\.path), kohya.unet.map(\.path))
        for (a, b) in zip(ldm.unet, kohya.unet) {
            XCTAssertEqual(a.down.maxAbsDifference(b.down), 0, a.path)
            XCTAssertEqual(a.up.maxAbsDifference(b.up), 0, a.path)
            XCTAssertEqual(a.scale, b.scale, a.path)
        }
    }

    /// diffusers_old.safetensors holds peft.safetensors under diffusers' older names (diffusers
    /// loads both to identical outputs, asserted by the fixture script): the same factors here.
    func testOlderDiffusersNamesGiveTheSameLayers() throws {
        let peft = try file("peft"), old = try file("diffusers_old")
        for (a, b) in [(old.unet, peft.unet), (old.textEncoder, peft.textEncoder)] {
            XCTAssertEqual(a.map(\.path), b.map(\.path))
            for (x, y) in zip(a, b) {
                XCTAssertEqual(x.down.maxAbsDifference(y.down), 0, x.path)
                XCTAssertEqual(x.up.maxAbsDifference(y.up), 0, x.path)
                XCTAssertEqual(x.scale, y.scale, x.path)
            }
        }
    }

    func testTextEncoderWithBothFilesMatchesDiffusers() throws {
        let ids = pipeline.tokenizer.tokenize(try document().cases[0].prompt)
        let hidden = pipeline.textEncoder([ids], deltas: try bothDeltas().textEncoder)
        let expected = try golden.tensor("text_hidden_both")
        let difference = hidden.maxAbsDifference(expected)
        XCTAssertLessThan(difference, 1e-4)
        XCTAssertGreaterThan(pipeline.textEncoder([ids]).maxAbsDifference(expected), 100 * difference, "the LoRAs must matter")
        print("text encoder with two LoRAs: within \(difference) of diffusers")
    }

    func testUNetWithBothFilesMatchesDiffusers() throws {
        let deltas = try bothDeltas()
        let ids = pipeline.tokenizer.tokenize(try document().cases[0].prompt)
        let text = pipeline.textEncoder([ids], deltas: deltas.textEncoder)
        let conditioning = CrossAttentionConditioning(text: Tensor.concat([text, text], axis: 0))
        let output = try pipeline.unet(try golden.tensor("unet_sample"), timestep: try document().unetTimestep,
                                       conditioning: conditioning, stop: nil, deltas: deltas.unet)
        let expected = try golden.tensor("unet_output_both")
        let scale = max(1, expected.scalars.map(abs).max()!)
        let difference = output.maxAbsDifference(expected) / scale
        XCTAssertLessThan(difference, 1e-4)
        print("unet with two LoRAs: within \(difference) (relative) of diffusers")
    }

    /// Whole generations through the request API (the `--noise` contract), every case on the same
    /// pipeline, at the tolerance of PipelineParityTests (1e-3 of the largest latent).
    func testWholeGenerationsMatchDiffusers() throws {
        let cases = try document().cases
        XCTAssertEqual(cases.map(\.name), ["kohya_ddim", "peft_ddim", "both_ddim", "kohya_lcm"])
        for c in cases {
            let noiseFile = Fixtures.temporaryDirectory("lora-noise").appendingPathComponent("noise.safetensors")
            try SafetensorsWriter.write(["latents": try golden.tensor(c.noise)], to: noiseFile)
            var request = GenerationRequest(prompt: c.prompt)
            request.negativePrompt = c.negativePrompt
            request.steps = c.steps
            request.guidance = c.guidance
            request.sampler = c.scheduler == "lcm" ? .lcm : .ddim
            request.seed = c.seed ?? 0
            request.width = 64
            request.height = 64
            request.noiseFile = noiseFile.path
            request.loras = c.loras.map { LoRAChoice(path: Fixtures.url("\(Self.folder)/\($0.file)").path, scale: $0.scale) }
            let result = try pipeline.generate(request)
            let expected = try golden.tensor(c.latents)
            let scale = max(1, expected.scalars.map(abs).max()!)
            let difference = result.latents.maxAbsDifference(expected) / scale
            XCTAssertLessThan(difference, 1e-3, c.name)
            request.loras = []
            let plain = try pipeline.generate(request).latents.maxAbsDifference(expected) / scale
            XCTAssertGreaterThan(plain, 0.05, "\(c.name): without its LoRAs the run must differ")
            print("\(c.name): within \(difference) (relative) of diffusers; without LoRA \(plain)")
        }
    }

    /// Between runs with other scales the files are not read again (the very tensors are reused);
    /// a run without a file lets it go.
    func testFilesAreReadOnceAcrossScalesAndDroppedWhenUnused() throws {
        let kohya = Fixtures.url("\(Self.folder)/kohya.safetensors").path, peft = Fixtures.url("\(Self.folder)/peft.safetensors").path
        var request = GenerationRequest(prompt: "a red house")
        request.steps = 1
        request.width = 64
        request.height = 64
        request.loras = [LoRAChoice(path: kohya, scale: 0.3), LoRAChoice(path: peft, scale: 1)]
        let first = try pipeline.prepare(request).loras.map { ObjectIdentifier($0.file.unet[0].down.storage) }
        request.loras[0].scale = -0.7
        request.loras[1].scale = 0.2
        let second = try pipeline.prepare(request).loras.map { ObjectIdentifier($0.file.unet[0].down.storage) }
        XCTAssertEqual(first, second)
        request.loras.removeLast()
        _ = try pipeline.prepare(request)
        XCTAssertEqual(Array(pipeline.loraFiles.keys), [kohya])
    }

    /// A scale of 0 leaves a file out; the prompt cache keeps runs with other scales apart.
    func testScaleZeroIsThePlainModelAndScalesDoNotLeakThroughTheCache() throws {
        let kohya = Fixtures.url("\(Self.folder)/kohya.safetensors").path
        var request = GenerationRequest(prompt: "a red house")
        request.steps = 2
        request.width = 64
        request.height = 64
        request.seed = 3
        let plain = try pipeline.generate(request).latents
        request.loras = [LoRAChoice(path: kohya, scale: 0)]
        XCTAssertEqual(try pipeline.generate(request).latents.maxAbsDifference(plain), 0)
        request.loras = [LoRAChoice(path: kohya, scale: 1)]
        let one = try pipeline.generate(request).latents
        request.loras = [LoRAChoice(path: kohya, scale: 0.5)]
        let half = try pipeline.generate(request).latents
        XCTAssertGreaterThan(one.maxAbsDifference(half), 1e-3)
        request.loras = [LoRAChoice(path: kohya, scale: 1)]
        XCTAssertEqual(try pipeline.generate(request).latents.maxAbsDifference(one), 0)
    }

    /// A sweep over the first and second file's scales: each cell carries its scales, and a
    /// request without the file is refused before anything runs.
    func testSweepAxesOverLoRAScales() throws {
        var base = GenerationRequest(prompt: "p")
        base.loras = [LoRAChoice(path: "/a.safetensors"), LoRAChoice(path: "/b.safetensors", scale: 0.5)]
        let plan = SweepPlan(base: base, x: try SweepAxis(parsing: "lora=0,0.5,1"), y: try SweepAxis(parsing: "lora2=-1,1"))
        try plan.validate()
        XCTAssertEqual(plan.request(row: 1, column: 2).loras.map(\.scale), [1, 1])
        XCTAssertEqual(plan.request(row: 0, column: 0).loras.map(\.scale), [0, -1])
        XCTAssertEqual(plan.x.label(1), "lora=0.5")
        base.loras.removeLast()
        XCTAssertThrowsError(try SweepPlan(base: base, x: try SweepAxis(parsing: "lora2=0,1"), y: nil).validate()) {
            XCTAssertEqual("\($0)", "sweep axis lora2: the request has 1 LoRA file (give them with --lora FILE[:SCALE])")
        }
        XCTAssertThrowsError(try SweepPlan(base: base, x: try SweepAxis(parsing: "lora=0,11"), y: nil).validate()) {
            XCTAssertTrue("\($0)".contains("scale 11.0 is outside -10.0...10.0"), "\($0)")
        }
    }

    /// The request's record: the LoRA list round-trips, and a record without it still loads.
    func testRecordKeepsTheListAndOlderRecordsLoad() throws {
        var request = GenerationRequest(prompt: "p")
        request.loras = [LoRAChoice(path: "/a/b.safetensors", scale: 0.7), LoRAChoice(path: "/c.safetensors", scale: -1)]
        let data = try JSONEncoder().encode(request)
        XCTAssertEqual(try JSONDecoder().decode(GenerationRequest.self, from: data), request)
        let older = try JSONDecoder().decode(GenerationRequest.self, from: Data(#"{"prompt":"p","steps":4}"#.utf8))
        XCTAssertEqual(older.loras, [])
        // a result whose LoRA file has gone still loads (to be edited); running it is refused
        let folder = Fixtures.temporaryDirectory("lora-record")
        let png = try request.save(RGBImage(width: 8, height: 8, color: .white), inFolder: folder)
        XCTAssertEqual(try GenerationRequest.load(from: png).loras, request.loras)
        XCTAssertThrowsError(try pipeline.prepare(request)) {
            XCTAssertTrue("\($0)".hasPrefix("--lora /a/b.safetensors: cannot open"), "\($0)")
        }
    }
}
