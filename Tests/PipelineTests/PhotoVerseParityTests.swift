import Foundation
import Formats
import Models
@testable import Pipeline
import Sampling
import TensorCore
import TestSupport
import Tokenizer
import XCTest

/// PhotoVerse's dual branch against the PyTorch reference (training/photoverse_train/model,
/// goldens by training/fixtures/make_photoverse_fixtures.py) and diffusers' IP-Adapter, on
/// the tiny random-weight model. Components: 1e-4 absolute (FP32 of the same FP16 weights,
/// values of order 1); generations: 1e-3 relative to the largest latent (random UNets
/// make latents grow to tens).
final class PhotoVerseParityTests: XCTestCase {
    static let golden = "photoverse-golden"
    static func file(_ name: String) throws -> SafetensorsFile { try SafetensorsFile(url: Fixtures.url("\(golden)/\(name)")) }

    static let pipeline: GenerationPipeline = {
        let p = try! GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"), faces: shippedFaces)
        try! p.loadIdentity(adapter: Fixtures.url("\(golden)/adapter.safetensors"), imageEncoderFolder: Fixtures.url(golden))
        return p
    }()

    struct Cases: Decodable {
        struct TextCase: Decodable {
            let name: String, prompt: String, numWords: Int, inputIds: [Int], slots: [[Int]], embeds: String
        }
        struct UNetCase: Decodable { let output: String, gamma: Float, sigma: Float, alpha: Float }
        struct GenerateCase: Decodable {
            let name: String, schedulerClass: String, steps: Int, timesteps: [Float], prompt: String, negativePrompt: String
            let numWords: Int, gamma: Float, sigma: Float, alpha: Float, sImage: Float, sText: Float
            let imageStart: Double, imageEnd: Double, uncondImage: String, references: [String]
            let strength: Double?, noise: String, latents: String
        }
        let textCases: [TextCase]
        let unetCases: [UNetCase]
        let generateCases: [GenerateCase]
    }

    static let cases: Cases = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(Cases.self, from: Data(contentsOf: Fixtures.url("\(golden)/cases.json")))
    }()

    /// The references as the encoder sees them: the fixture's PIL-resized 32x32 pixels.
    static func reference(_ tensorName: String) throws -> RGBImage {
        let resized = try file("vision.safetensors").tensor(tensorName)   // [32, 32, 3] byte values
        return RGBImage(width: resized.shape[1], height: resized.shape[0],
                        pixels: resized.scalars.map { UInt8($0) })
    }

    func assertClose(_ actual: Tensor, _ expected: Tensor, _ message: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        assertClose(actual, expected, 1e-4, message, file: file, line: line)
    }

    func assertClose(_ actual: Tensor, _ expected: Tensor, _ tolerance: Float, relative: Bool = false,
                     _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.shape, expected.shape, message, file: file, line: line)
        guard actual.shape == expected.shape else { return }
        let scale = relative ? max(1, expected.scalars.map(abs).max() ?? 1) : 1
        XCTAssertLessThan(actual.maxAbsDifference(expected) / scale, tolerance, message, file: file, line: line)
    }

    // MARK: components

    func testVisionEncoderHiddenStatesAndFeatures() throws {
        let vision = try Self.file("vision.safetensors")
        let encoder = Self.pipeline.identity!
        let pixels = try encoder.pixels(try Self.reference("resized"))
        assertClose(pixels, try vision.tensor("pixel_values"), 1e-5, "CLIP normalisation")
        let all = try vision.tensor("hidden_states")
        let states = encoder.vision!.hiddenStates(pixels, layers: Array(0...6))
        for k in 0...6 {
            assertClose(states[k], all.slice(axis: 0, start: k, length: 1).reshaped([1, 17, 32]), "hidden_states[\(k)]")
        }
        let features = encoder.vision!.hiddenStates(pixels, layers: [-1, 2, 4])
        for i in 0..<3 { assertClose(features[i], try vision.tensor("features_\(i)"), "feature \(i)") }
        let projected = try ModelFolder(Fixtures.url(Self.golden)).loadImageEncoder(withProjection: true)
        assertClose(projected.imageEmbeddings(pixels), try vision.tensor("image_embeds"), "image_embeds")
        // reference2.png (48x64: shorter side to 32, centre crop), then both averaged as the adapters see them
        let second = try encoder.pixels(try Self.reference("resized_2"))
        assertClose(second, try vision.tensor("pixel_values_2"), 1e-5, "CLIP normalisation, reference 2")
        let secondFeatures = encoder.vision!.hiddenStates(second, layers: [-1, 2, 4])
        for i in 0..<3 { assertClose(secondFeatures[i], try vision.tensor("features_2_\(i)"), "reference 2: feature \(i)") }
        assertClose(projected.imageEmbeddings(second), try vision.tensor("image_embeds_2"), "reference 2: image_embeds")
        let averaged = try encoder.encode([try Self.reference("resized"), try Self.reference("resized_2")]).features
        XCTAssertEqual(averaged.count, 3)
        for i in 0..<min(3, averaged.count) { assertClose(averaged[i], try vision.tensor("features_avg_\(i)"), "averaged feature \(i)") }
    }

    func testAdaptersMakePseudoWordsAndImageTokens() throws {
        let adapters = try Self.file("adapters.safetensors")
        let encoder = Self.pipeline.identity!
        let one = try encoder.encode([try Self.reference("resized")])
        assertClose(one.pseudoWords!, try adapters.tensor("pseudo_words"), "pseudo-words")
        assertClose(one.imageTokens!, try adapters.tensor("image_tokens"), "image tokens")
        assertClose(one.unconditionalImageTokens[.zeroFeatures]!, try adapters.tensor("image_tokens_zero_features"), "zero features")
        XCTAssertEqual(one.unconditionalImageTokens[.zeroTokens]!.scalars.max(), 0)
        let two = try encoder.encode([try Self.reference("resized"), try Self.reference("resized_2")])
        assertClose(two.pseudoWords!, try adapters.tensor("pseudo_words_avg"), "averaged references: pseudo-words")
        assertClose(two.imageTokens!, try adapters.tensor("image_tokens_avg"), "averaged references: image tokens")
        let other = try encoder.encode([try Self.reference("resized_2")])
        assertClose(other.pseudoWords!, try adapters.tensor("pseudo_words_2"), "reference 2: pseudo-words")
        assertClose(other.imageTokens!, try adapters.tensor("image_tokens_2"), "reference 2: image tokens")
        let zeros = one.features.map { Tensor(shape: $0.shape) }
        assertClose(encoder.adapter.textAdapter!(zeros), try adapters.tensor("pseudo_words_zero_features"), "pseudo-words of zero features")
    }

    func testPlaceholderTokensAndTextEmbeddings() throws {
        let text = try Self.file("text.safetensors")
        let pipeline = Self.pipeline
        let words = try Self.file("adapters.safetensors").tensor("pseudo_words")
        XCTAssertGreaterThanOrEqual(Self.cases.textCases.count, 12)
        for c in Self.cases.textCases {
            let tokens = pipeline.tokenizer.tokenize(c.prompt, placeholder: "S*", slots: c.numWords)
            XCTAssertEqual(tokens.ids, c.inputIds, c.name)
            let expectedSlots = c.slots.map { $0[0] }
            XCTAssertEqual(tokens.slots.flatMap { $0 }, expectedSlots, c.name)
            let m = words.slice(axis: 1, start: 0, length: c.numWords)
            let embedded = c.prompt.contains("S*")
                ? pipeline.textEncoder.encode(tokens, pseudoWords: m) : pipeline.textEncoder([tokens.ids])
            assertClose(embedded, try text.tensor(c.embeds), c.name)
        }
    }

    func testDecoupledCrossAttentionForEveryWeightSetting() throws {
        let unet = try Self.file("unet.safetensors")
        let sample = try unet.tensor("sample"), t = try unet.tensor("timestep").scalars[0]
        let states = try unet.tensor("encoder_hidden_states"), tokens = try unet.tensor("image_tokens")
        let model = Self.pipeline.unet, adapters = Self.pipeline.identity!.adapter.layers
        XCTAssertEqual(adapters.count, model.crossAttentionPaths.count, "every attn2 has an adapter")
        XCTAssertEqual(Self.cases.unetCases.count, 8)
        for c in Self.cases.unetCases {
            let conditioning = CrossAttentionConditioning(text: states, imageTokens: tokens, adapters: adapters,
                                                          textWeight: c.gamma, imageWeight: c.sigma, loraScale: c.alpha)
            assertClose(model(sample, timestep: t, conditioning: conditioning), try unet.tensor(c.output), c.output)
        }
        // σ = 0, α = 0 is the plain UNet, bit for bit.
        let off = CrossAttentionConditioning(text: states, imageTokens: tokens, adapters: adapters,
                                             textWeight: 1, imageWeight: 0, loraScale: 0)
        XCTAssertEqual(model(sample, timestep: t, conditioning: off).scalars,
                       model(sample, timestep: t, encoderHiddenStates: states).scalars)
    }

    // MARK: generations

    static func sampler(_ className: String) -> SamplerKind? {
        switch className {
        case "DDIMScheduler": return .ddim
        case "EulerDiscreteScheduler": return .euler
        default: return nil
        }
    }

    /// Every generation case make_photoverse_fixtures.py writes: one missing fails by name.
    static let expectedGenerateCases = ["ddim_three", "euler_three", "ddim_equal", "ddim_image_half", "ddim_two_refs",
                                        "ddim_zero_features", "euler_img2img", "ddim_plain"]

    func personalization(_ c: Cases.GenerateCase) throws -> Personalization {
        let names = c.references.map { $0 == "reference.png" ? "resized" : "resized_2" }
        var p = Personalization(references: try names.map(Self.reference))
        p.textWeight = c.gamma
        p.imageWeight = c.sigma
        p.loraScale = c.alpha
        p.pseudoWords = c.numWords
        p.imageStart = c.imageStart
        p.imageEnd = c.imageEnd
        p.identityGuidance = c.sImage
        p.unconditionalImage = AdapterMetadata.UnconditionalImage(rawValue: c.uncondImage)
        return p
    }

    /// Final latents and the latents after every step, 1e-3 relative to the largest.
    func testGenerationsMatchTheReference() throws {
        let generate = try Self.file("generate.safetensors")
        for name in Self.expectedGenerateCases where !Self.cases.generateCases.contains(where: { $0.name == name }) {
            XCTFail("generation case \(name) is missing from photoverse-golden/cases.json")
        }
        for c in Self.cases.generateCases {
            // The strength start: testStrengthStartMatchesTheReference (its golden samples the
            // start latents as the engine and diffusers do; this one takes the posterior mean).
            if c.strength != nil { continue }
            guard let sampler = Self.sampler(c.schedulerClass) else {
                XCTFail("\(c.name): no sampler for \(c.schedulerClass)")
                continue
            }
            var request = PreparedRequest(prompt: c.prompt)
            request.negativePrompt = c.negativePrompt
            request.steps = c.steps
            request.sampler = sampler
            request.guidance = c.sText
            request.width = 64
            request.height = 64
            request.noise = try generate.tensor(c.noise)
            if !c.references.isEmpty { request.personalization = try personalization(c) }
            var steps: [Tensor] = []
            let result = try Self.pipeline.generate(request) { steps.append($0.latents); return true }
            assertClose(result.latents, try generate.tensor(c.latents), 1e-3, relative: true, c.name)
            let expectedSteps = try generate.tensor("\(c.name)_step_latents")
            XCTAssertEqual(steps.count, expectedSteps.shape[0], c.name)
            for (i, latents) in steps.prefix(expectedSteps.shape[0]).enumerated() {
                assertClose(latents, expectedSteps.slice(axis: 0, start: i, length: 1).reshaped(latents.shape), 1e-3, relative: true,
                            "\(c.name) step \(i + 1)")
            }
        }
    }

    static let img2img = "img2img-golden"

    struct Img2ImgCase: Decodable {
        let name: String, scheduler: String, steps: Int, strength: Double, seed: UInt64, prompt: String, negativePrompt: String
        let timesteps: [Float], latents: String
        let guidance: Float?, sText: Float?, sImage: Float?, gamma: Float?, sigma: Float?, alpha: Float?, numWords: Int?
        let references: [String]?, image: String?, initImage: String?
    }

    static let img2imgCases: [Img2ImgCase] = {
        struct File: Decodable { let cases: [Img2ImgCase] }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(File.self, from: Data(contentsOf: Fixtures.url("\(img2img)/cases.json"))).cases
    }()

    /// The paper's image-to-image trick through the whole request path (file names, `--crop none`,
    /// the strength start prepared from the reference, seeded posterior sample then noise) against
    /// the PyTorch reference (img2img-golden, make_img2img_fixtures.py).
    func testStrengthStartMatchesTheReference() throws {
        let c = try XCTUnwrap(Self.img2imgCases.first { $0.name == "photoverse_strength" }, "img2img-golden case photoverse_strength")
        var request = GenerationRequest(prompt: c.prompt)
        request.negativePrompt = c.negativePrompt
        request.steps = c.steps
        request.sampler = try XCTUnwrap(SamplerKind(rawValue: c.scheduler), c.scheduler)
        request.guidance = try XCTUnwrap(c.sText)
        request.seed = c.seed
        request.width = 64
        request.height = 64
        request.strength = c.strength
        request.identity.references = [ReferenceSource(path: Fixtures.url("\(Self.golden)/reference.png").path, crop: .none)]
        request.identity.adapter = Fixtures.url("\(Self.golden)/adapter.safetensors").path
        request.identity.imageEncoder = Fixtures.url(Self.golden).path
        request.identity.identityGuidance = c.sImage
        request.identity.textWeight = try XCTUnwrap(c.gamma)
        request.identity.imageWeight = try XCTUnwrap(c.sigma)
        request.identity.loraScale = try XCTUnwrap(c.alpha)
        request.identity.pseudoWords = c.numWords
        var steps = 0
        let result = try Self.pipeline.generate(request) { _ in steps += 1; return true }
        XCTAssertEqual(steps, c.timesteps.count, "steps run at strength \(c.strength) of \(c.steps)")
        let golden = try SafetensorsFile(url: Fixtures.url("\(Self.img2img)/golden.safetensors"))
        assertClose(result.latents, try golden.tensor(c.latents), 1e-3, relative: true, c.name)
    }

    /// photoverse-golden's `euler_img2img` (the reference starting from the posterior mean): the
    /// start image the pipeline prepares from reference.png, its encoding, and the partial schedule.
    func testStrengthStartImageEncodingAndSchedule() throws {
        let generate = try Self.file("generate.safetensors")
        let c = try XCTUnwrap(Self.cases.generateCases.first { $0.name == "euler_img2img" }, "generation case euler_img2img")
        var request = GenerationRequest(prompt: c.prompt)
        request.width = 64
        request.height = 64
        request.strength = c.strength
        request.identity.references = [ReferenceSource(path: Fixtures.url("\(Self.golden)/reference.png").path, crop: .none)]
        let prepared = try Self.pipeline.prepare(request)
        let start = try XCTUnwrap(prepared.initImage, "--strength with a reference prepares a start image")
        assertClose(start, try generate.tensor("euler_img2img_image"), 1e-6, "the strength start is reference.png itself")
        let vae = Self.pipeline.vae
        assertClose(vae.encode(start).mean * vae.config.scalingFactor, try generate.tensor("euler_img2img_init_latents"),
                    "start latents (posterior mean x 0.18215)")
        let scheduler = try XCTUnwrap(Self.sampler(c.schedulerClass)).makeScheduler(config: Self.pipeline.schedulerConfig)
        try scheduler.setTimesteps(c.steps)
        let schedule = try scheduler.img2imgSchedule(strength: try XCTUnwrap(c.strength))
        XCTAssertEqual(schedule.timesteps, Self.cases.generateCases.first { $0.name == "euler_img2img" }!.timesteps)
        XCTAssertEqual(try generate.tensor("euler_img2img_step_latents").shape[0], schedule.timesteps.count)
        XCTAssertEqual(try generate.tensor("euler_img2img_noise").shape, [1, 4, 8, 8])
        XCTAssertEqual(try generate.tensor("euler_img2img_latents").shape, [1, 4, 8, 8])
    }

    /// σ = 0 with α = 0 is plain text-to-image, exactly. s_I = s_T: the three-term sum
    /// ε∅ + s_I(ε_id − ε∅) + s_T(ε_full − ε_id) reduces to two-pass guidance whatever ε_id is
    /// (checked on the combination with a random ε_id), and s_I a hair away from s_T runs the
    /// three-row batch and lands on the two-pass golden (ddim_equal, which the fixture script
    /// checked against an independent three-row loop).
    func testGuidanceAndBranchFallbacks() throws {
        let generate = try Self.file("generate.safetensors")
        var plain = PreparedRequest(prompt: "a painting of a person on the beach")
        plain.steps = 3
        plain.width = 64
        plain.height = 64
        plain.negativePrompt = "blurry"
        plain.noise = try generate.tensor("ddim_three_noise")
        let reference = try Self.reference("resized")

        var off = plain
        var p = Personalization(references: [reference])
        p.imageWeight = 0
        p.loraScale = 0
        off.personalization = p
        XCTAssertEqual(try Self.pipeline.generate(off).latents.scalars, try Self.pipeline.generate(plain).latents.scalars,
                       "σ = 0, α = 0 and no S* must be plain text-to-image")

        let e0 = Tensor.seededUniform(shape: [1, 4, 8, 8], seed: 11, scale: 1)
        let e1 = Tensor.seededUniform(shape: [1, 4, 8, 8], seed: 12, scale: 5)
        let e2 = Tensor.seededUniform(shape: [1, 4, 8, 8], seed: 13, scale: 1)
        let rows = Tensor.concat([e0, e1, e2], axis: 0)
        let three = GuidanceBatch.threeTerm(identity: 7.5, prompt: 7.5).combine(rows)
        let two = GuidanceBatch.twoPass(scale: 7.5).combine(Tensor.concat([e0, e2], axis: 0))
        assertClose(three, two, 1e-5, "s_I = s_T: the identity row cancels")
        XCTAssertGreaterThan(GuidanceBatch.threeTerm(identity: 3, prompt: 7.5).combine(rows).maxAbsDifference(two), 1,
                             "s_I ≠ s_T: the identity row counts")

        let c = try XCTUnwrap(Self.cases.generateCases.first { $0.name == "ddim_equal" }, "generation case ddim_equal")
        XCTAssertEqual(c.sImage, c.sText)
        var near = PreparedRequest(prompt: c.prompt)
        near.negativePrompt = c.negativePrompt
        near.steps = c.steps
        near.guidance = c.sText
        near.width = 64
        near.height = 64
        near.noise = try generate.tensor(c.noise)
        var q = try personalization(c)
        q.identityGuidance = c.sText + 1e-3
        near.personalization = q
        XCTAssertEqual(GuidanceBatch(promptScale: c.sText, identityScale: q.identityGuidance).rows, 3)
        assertClose(try Self.pipeline.generate(near).latents, try generate.tensor(c.latents), 1e-3, relative: true,
                    "three rows at s_I = s_T + 0.001 against the two-pass golden")
    }

    func testReferenceEncodingIsCachedAcrossPrompts() throws {
        let pipeline = try GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"), faces: shippedFaces)
        try pipeline.loadIdentity(adapter: Fixtures.url("\(Self.golden)/adapter.safetensors"),
                                  imageEncoderFolder: Fixtures.url(Self.golden))
        var request = PreparedRequest(prompt: "a photo of S* in a hat")
        request.steps = 1
        request.width = 64
        request.height = 64
        request.personalization = Personalization(references: [try Self.reference("resized")])
        _ = try pipeline.generate(request)
        request.prompt = "S* on the moon"
        request.seed = 7
        _ = try pipeline.generate(request)
        XCTAssertEqual(pipeline.identity!.encoderRuns, 1, "a second prompt with the same face must not re-encode it")
        request.personalization = Personalization(references: [try Self.reference("resized_2")])
        _ = try pipeline.generate(request)
        XCTAssertEqual(pipeline.identity!.encoderRuns, 2, "a new face is encoded")
    }

    // MARK: IP-Adapter and ELITE layouts

    func testIPAdapterMatchesDiffusers() throws {
        let ip = try Self.file("ip.safetensors")
        let pipeline = try GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"), faces: shippedFaces)
        try pipeline.loadIdentity(adapter: Fixtures.url("\(Self.golden)/ip-adapter.safetensors"),
                                  imageEncoderFolder: Fixtures.url("\(Self.golden)/ip_image_encoder"))
        let identity = pipeline.identity!
        XCTAssertEqual(identity.adapter.layout, .ipAdapter)
        let vision = try Self.file("vision.safetensors")
        for (pixels, embeds) in [("pixel_values", "image_embeds"), ("pixel_values_2", "image_embeds_2")] {
            assertClose(identity.vision!.imageEmbeddings(try vision.tensor(pixels)), try ip.tensor(embeds), "IP image encoder: \(embeds)")
        }
        XCTAssertEqual(identity.adapter.layers.count, pipeline.unet.crossAttentionPaths.count)
        let encoded = try identity.encode([try Self.reference("resized")])
        assertClose(encoded.imageTokens!, try ip.tensor("image_tokens"), "image_proj tokens")
        assertClose(encoded.unconditionalImageTokens[.zeroFeatures]!, try ip.tensor("image_tokens_zero"), "unconditional tokens")
        // UNet ε with diffusers' IPAdapterAttnProcessor2_0 at scales 1 and 0.5.
        let embedsRows = try ip.tensor("image_embeds_rows")
        let tokens = identity.adapter.imageProjection!(embedsRows)
        for (name, scale) in [("eps_scale1", Float(1)), ("eps_scale0.5", 0.5)] {
            let conditioning = CrossAttentionConditioning(text: try ip.tensor("encoder_hidden_states"), imageTokens: tokens,
                                                          adapters: identity.adapter.layers, textWeight: 1,
                                                          imageWeight: scale, loraScale: 0)
            assertClose(pipeline.unet(try ip.tensor("sample"), timestep: 501, conditioning: conditioning),
                        try ip.tensor(name), name)
        }
        // diffusers' StableDiffusionPipeline with the IP-Adapter loaded, DDIM 4 steps, guidance 5, scale 0.6.
        let request = PreparedRequest.ipAdapterGolden(noise: try ip.tensor("pipeline_noise"), references: [try Self.reference("resized")])
        var steps: [Tensor] = []
        assertClose(try pipeline.generate(request) { steps.append($0.latents); return true }.latents,
                    try ip.tensor("pipeline_latents"), 1e-3, relative: true, "IP-Adapter pipeline")
        let expectedSteps = try ip.tensor("pipeline_step_latents")
        XCTAssertEqual(steps.count, expectedSteps.shape[0])
        for (i, latents) in steps.prefix(expectedSteps.shape[0]).enumerated() {
            assertClose(latents, expectedSteps.slice(axis: 0, start: i, length: 1).reshaped(latents.shape), 1e-3, relative: true,
                        "IP-Adapter pipeline step \(i + 1)")
        }
    }

    func testConvertedELITEMapperLoadsAsTextBranch() throws {
        let elite = try Self.file("elite.safetensors")
        let pipeline = try GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"), faces: shippedFaces)
        try pipeline.loadIdentity(adapter: Fixtures.url("\(Self.golden)/elite_converted.safetensors"),
                                  imageEncoderFolder: Fixtures.url(Self.golden))
        let identity = pipeline.identity!
        XCTAssertTrue(identity.adapter.hasTextBranch)
        XCTAssertFalse(identity.adapter.hasImageBranch)
        let encoded = try identity.encode([try Self.reference("resized")])
        assertClose(encoded.pseudoWords!, try elite.tensor("pseudo_words"), "ELITE pseudo-words")
        let tokens = pipeline.tokenizer.tokenize("a photo of S*", placeholder: "S*", slots: 1)
        let embeds = pipeline.textEncoder.encode(tokens, pseudoWords: encoded.pseudoWords!.slice(axis: 1, start: 0, length: 1))
        assertClose(embeds, try elite.tensor("embeds_identity_m1"), "ELITE identity prompt")
        let conditioning = CrossAttentionConditioning(text: embeds, imageTokens: nil, adapters: identity.adapter.layers,
                                                      textWeight: 1, imageWeight: 0, loraScale: 1)
        assertClose(pipeline.unet(try elite.tensor("sample"), timestep: 501, conditioning: conditioning),
                    try elite.tensor("eps_a1"), "ELITE to_k/to_v_global as LoRA")
    }
}
