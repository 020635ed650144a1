import Foundation
import Formats
import Models
import Pipeline
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
        let p = try! GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"))
        try! p.loadIdentity(adapter: Fixtures.url("\(golden)/adapter.safetensors"), imageEncoderFolder: Fixtures.url(golden))
        return p
    }()

    struct Cases: Decodable {
        struct TextCase: Decodable {
            let name: String, prompt: String, numWords: Int, inputIds: [Int], slots: [[Int]], embeds: String
        }
        struct UNetCase: Decodable { let output: String, gamma: Float, sigma: Float, alpha: Float }
        struct GenerateCase: Decodable {
            let name: String, schedulerClass: String, steps: Int, prompt: String, negativePrompt: String
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
        let states = encoder.vision.hiddenStates(pixels, layers: Array(0...6))
        for k in 0...6 {
            assertClose(states[k], all.slice(axis: 0, start: k, length: 1).reshaped([1, 17, 32]), "hidden_states[\(k)]")
        }
        let features = encoder.vision.hiddenStates(pixels, layers: [-1, 2, 4])
        for i in 0..<3 { assertClose(features[i], try vision.tensor("features_\(i)"), "feature \(i)") }
        let projected = try ModelFolder(Fixtures.url(Self.golden)).loadImageEncoder(withProjection: true)
        assertClose(projected.imageEmbeddings(pixels), try vision.tensor("image_embeds"), "image_embeds")
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

    func sampler(_ className: String) throws -> SamplerKind {
        switch className {
        case "DDIMScheduler": return .ddim
        case "EulerDiscreteScheduler": return .euler
        default: throw XCTSkip("no sampler for \(className)")
        }
    }

    func testGenerationsMatchTheReference() throws {
        let generate = try Self.file("generate.safetensors")
        var checked = 0
        for c in Self.cases.generateCases {
            // img2img: the reference encodes the start image with the posterior mean, the engine
            // samples it as diffusers' img2img pipeline does (covered by PipelineParityTests).
            if c.strength != nil { continue }
            var request = PreparedRequest(prompt: c.prompt)
            request.negativePrompt = c.negativePrompt
            request.steps = c.steps
            request.sampler = try sampler(c.schedulerClass)
            request.guidance = c.sText
            request.width = 64
            request.height = 64
            request.noise = try generate.tensor(c.noise)
            if !c.references.isEmpty {
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
                request.personalization = p
            }
            let result = try Self.pipeline.generate(request)
            assertClose(result.latents, try generate.tensor(c.latents), 1e-3, relative: true, c.name)
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 7)
    }

    /// s_I = s_T is ordinary two-pass guidance, exactly; σ = 0 with α = 0 is plain text-to-image, exactly.
    func testGuidanceAndBranchFallbacksAreExact() throws {
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

        var equal = plain
        equal.prompt = "a painting of S* on the beach"
        var q = Personalization(references: [reference])
        q.identityGuidance = plain.guidance
        equal.personalization = q
        var unset = equal
        unset.personalization!.identityGuidance = nil
        XCTAssertEqual(try Self.pipeline.generate(equal).latents.scalars, try Self.pipeline.generate(unset).latents.scalars)
    }

    func testReferenceEncodingIsCachedAcrossPrompts() throws {
        let pipeline = try GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"))
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
        let pipeline = try GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"))
        try pipeline.loadIdentity(adapter: Fixtures.url("\(Self.golden)/ip-adapter.safetensors"),
                                  imageEncoderFolder: Fixtures.url("\(Self.golden)/ip_image_encoder"))
        let identity = pipeline.identity!
        XCTAssertEqual(identity.adapter.layout, .ipAdapter)
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
        var request = PreparedRequest(prompt: "a photo of an astronaut riding a horse")
        request.negativePrompt = "blurry, low quality"
        request.guidance = 5
        request.steps = 4
        request.width = 64
        request.height = 64
        request.noise = try ip.tensor("pipeline_noise")
        var p = Personalization(references: [try Self.reference("resized")])
        p.imageWeight = 0.6
        request.personalization = p
        assertClose(try pipeline.generate(request).latents, try ip.tensor("pipeline_latents"), 1e-3, relative: true,
                    "IP-Adapter pipeline")
    }

    func testConvertedELITEMapperLoadsAsTextBranch() throws {
        let elite = try Self.file("elite.safetensors")
        let pipeline = try GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"))
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
