import Foundation
import Formats
import Models
@testable import Pipeline
import Sampling
import TensorCore
import TestSupport
import XCTest

/// Every IP-Adapter SD1.5 variant, in IP-Adapter's published layout (a nested `.bin` converted by
/// training/convert_checkpoint.py) and in diffusers' layout, against diffusers' own loader and
/// pipeline on tiny random weights (goldens by training/fixtures/make_ip_adapter_variants.py).
/// Tolerances as PhotoVerseParityTests: tokens 1e-4 absolute, generations 1e-3 relative to the
/// largest latent. FaceID runs with its companion LoRA, as diffusers' `load_ip_adapter` applies it (peft
/// adapter `faceid_0`, weight 1): the published file carries it; diffusers' layout does not, so those runs
/// add it as the LoRA file diffusers saves from that adapter (`V-lora.safetensors`).
final class IPAdapterVariantsTests: XCTestCase {
    static let folder = "ip-adapter-variants"
    static let imageEncoder = Fixtures.url("photoverse-golden/ip_image_encoder")
    static func file(_ name: String) throws -> SafetensorsFile { try SafetensorsFile(url: Fixtures.url("\(folder)/\(name)")) }

    static let variants: [(name: String, variant: IPAdapterVariant)] = [
        ("plain", .plain), ("plus", .plus), ("full-face", .fullFace), ("faceid", .faceID), ("faceid-plus", .faceIDPlus),
    ]
    static let shortcutScale: Float = 0.8

    /// reference.png as the encoder sees it (the fixture's PIL-resized 32x32 pixels).
    static func reference() throws -> RGBImage {
        let resized = try SafetensorsFile(url: Fixtures.url("photoverse-golden/vision.safetensors")).tensor("resized")
        return RGBImage(width: resized.shape[1], height: resized.shape[0], pixels: resized.scalars.map { UInt8($0) })
    }

    static func faceEmbedding() throws -> Tensor {
        try FaceEmbeddingFile.load(Fixtures.url("\(folder)/face_embedding.safetensors"))
    }

    func assertClose(_ actual: Tensor, _ expected: Tensor, _ tolerance: Float, relative: Bool = false,
                     _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.shape, expected.shape, message, file: file, line: line)
        guard actual.shape == expected.shape else { return }
        let scale = relative ? max(1, expected.scalars.map(abs).max() ?? 1) : 1
        XCTAssertLessThan(actual.maxAbsDifference(expected) / scale, tolerance, message, file: file, line: line)
    }

    /// FaceID's companion LoRA as diffusers saves it (`save_lora_weights` of the adapter `faceid_0`).
    func companionLoRAFile(_ variant: String, for pipeline: GenerationPipeline) throws -> LoRAFile {
        try LoRAFile(url: Fixtures.url("\(Self.folder)/\(variant)-lora.safetensors"), unet: pipeline.unet.loraTargets,
                     textEncoder: pipeline.textEncoder.loraTargets)
    }

    func relativeDifference(_ actual: Tensor, _ expected: Tensor) -> Float {
        actual.maxAbsDifference(expected) / max(1, expected.scalars.map(abs).max() ?? 1)
    }

    func pipeline(_ adapter: String) throws -> GenerationPipeline {
        let pipeline = try GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"), faces: shippedFaces)
        try pipeline.loadIdentity(adapter: Fixtures.url("\(Self.folder)/\(adapter)"), imageEncoderFolder: Self.imageEncoder)
        return pipeline
    }

    func testPenultimateHiddenStatesMatchTransformers() throws {
        let vision = try Self.file("vision.safetensors")
        let encoder = try pipeline("plus.safetensors").identity!.vision!
        assertClose(encoder.penultimateHiddenStates(try vision.tensor("pixel_values")), try vision.tensor("penultimate"), 1e-4,
                    "hidden_states[-2]")
        let zero = Tensor(shape: [1, 3, 32, 32])
        assertClose(encoder.penultimateHiddenStates(zero), try vision.tensor("penultimate_zero"), 1e-4, "hidden_states[-2] of zeros")
    }

    /// Each file is recognised from its tensor names, loads fully, and gives diffusers' image tokens.
    func testImageTokensMatchDiffusersInBothLayouts() throws {
        let reference = try Self.reference(), face = try Self.faceEmbedding()
        for (name, variant) in Self.variants {
            let golden = try Self.file("\(name)-golden.safetensors")
            for (file, layout) in [("\(name).safetensors", IPAdapterLayout.published), ("\(name)-diffusers.safetensors", .diffusers)] {
                let identity = try pipeline(file).identity!
                XCTAssertEqual(identity.adapter.ipAdapterKind, IPAdapterKind(variant: variant, layout: layout), file)
                XCTAssertEqual(identity.vision == nil, variant == .faceID, "\(file): FaceID loads no image encoder")
                let references = variant == .faceID ? [] : [reference]
                let embedding = variant.needsFaceEmbedding ? face : nil
                let encoded = try identity.encode(references, faceEmbedding: embedding)
                assertClose(encoded.imageTokens!, try golden.tensor("image_tokens"), 1e-4, "\(file): image tokens")
                assertClose(encoded.unconditionalImageTokens[.zeroFeatures]!, try golden.tensor("image_tokens_uncond"), 1e-4,
                            "\(file): unconditional tokens")
                if variant == .faceIDPlus {
                    let v2 = try identity.encode(references, faceEmbedding: face, shortcutScale: Self.shortcutScale)
                    assertClose(v2.imageTokens!, try golden.tensor("image_tokens_shortcut"), 1e-4, "\(file): Plus-v2 tokens")
                    assertClose(v2.unconditionalImageTokens[.zeroFeatures]!, try golden.tensor("image_tokens_uncond_shortcut"), 1e-4,
                                "\(file): Plus-v2 unconditional tokens")
                }
            }
        }
    }

    /// A whole DDIM generation (4 steps, guidance 5, σ 0.6) against diffusers' StableDiffusionPipeline
    /// with the adapter loaded: final latents and the latents after every step. FaceID in diffusers'
    /// layout gets its companion LoRA as a file; without it the run ends far from diffusers'.
    func testGenerationsMatchDiffusersInBothLayouts() throws {
        let reference = try Self.reference(), face = try Self.faceEmbedding()
        for (name, variant) in Self.variants {
            let golden = try Self.file("\(name)-golden.safetensors")
            var runs: [(String, Float?)] = [("latents", nil)]
            if variant == .faceIDPlus { runs.append(("latents_shortcut", Self.shortcutScale)) }
            for file in ["\(name).safetensors", "\(name)-diffusers.safetensors"] {
                let pipeline = try pipeline(file)
                let separateLoRA = variant.needsFaceEmbedding && file.contains("diffusers")
                let loras = separateLoRA ? [(file: try companionLoRAFile(name, for: pipeline), scale: Float(1))] : []
                for (latentsName, shortcut) in runs {
                    var request = PreparedRequest.ipAdapterGolden(noise: try golden.tensor("noise"),
                                                                  references: variant == .faceID ? [] : [reference],
                                                                  faceEmbedding: variant.needsFaceEmbedding ? face : nil)
                    request.personalization?.shortcutScale = shortcut
                    request.loras = loras
                    var steps: [Tensor] = []
                    let result = try pipeline.generate(request) { steps.append($0.latents); return true }
                    assertClose(result.latents, try golden.tensor(latentsName), 1e-3, relative: true, "\(file): \(latentsName)")
                    if separateLoRA {
                        // The companion LoRA matters far beyond the tolerance: without it the run is not diffusers'.
                        request.loras = []
                        let noLoRA = try pipeline.generate(request).latents
                        XCTAssertGreaterThan(relativeDifference(noLoRA, try golden.tensor(latentsName)), 0.1, "\(file): the LoRA changes nothing")
                        request.loras = loras
                    }
                    // The adapter matters: without its image attention the run ends elsewhere.
                    request.personalization?.imageWeight = 0
                    let without = try pipeline.generate(request).latents
                    let largest = result.latents.scalars.map(abs).max() ?? 1
                    XCTAssertGreaterThan(without.maxAbsDifference(result.latents) / largest, 1e-2, "\(file): σ = 0 changes nothing")
                    let expected = try golden.tensor("\(latentsName)_steps")
                    XCTAssertEqual(steps.count, expected.shape[0], file)
                    for (i, latents) in steps.prefix(expected.shape[0]).enumerated() {
                        assertClose(latents, expected.slice(axis: 0, start: i, length: 1).reshaped(latents.shape), 1e-3, relative: true,
                                    "\(file): \(latentsName) step \(i + 1)")
                    }
                }
            }
        }
    }

    /// FaceID's published files carry its LoRA on every attention (attn1 and attn2): read by target, the same
    /// factors diffusers' peft adapter `faceid_0` holds; runs with the adapter add it, and taking it away again
    /// (the diffusers-saved file at scale -1) gives the run without it.
    func testFaceIDCompanionLoRAIsCollectedByTargetAndApplied() throws {
        let plain = try pipeline("plain.safetensors")
        let unet = plain.unet
        for name in ["faceid", "faceid-plus"] {
            let adapter = try PhotoVerseAdapter.load(Fixtures.url("\(Self.folder)/\(name).safetensors"), for: unet)
            let file = try Self.file("\(name).safetensors")
            XCTAssertEqual(adapter.companionLoRA.count, file.tensorNames.filter { $0.contains("_lora.") }.count / 2, name)
            let first = unet.crossAttentionPaths[0]
            let selfAttention = String(first.dropLast()) + "1"
            let update = try XCTUnwrap(adapter.companionLoRA.first { $0.target == "\(selfAttention).to_out.0" }, name)
            XCTAssertEqual(update.down.scalars, try file.tensor("ip_adapter.0.to_out_lora.down.weight").scalars)
            XCTAssertEqual(update.up.scalars, try file.tensor("ip_adapter.0.to_out_lora.up.weight").scalars)
            XCTAssertNotNil(adapter.companionLoRA.first { $0.target == "\(first).to_k" }, name)
            let diffusers = try PhotoVerseAdapter.load(Fixtures.url("\(Self.folder)/\(name)-diffusers.safetensors"), for: unet)
            XCTAssertTrue(diffusers.companionLoRA.isEmpty)
            // diffusers' own copy of the LoRA (from its peft adapter) has the same factors for the same layers.
            let saved = try companionLoRAFile(name, for: plain)
            XCTAssertEqual(saved.textEncoder.count, 0)
            XCTAssertEqual(Set(saved.unet.map(\.path)), Set(adapter.companionLoRA.map(\.target)), name)
            for layer in saved.unet {
                let update = try XCTUnwrap(adapter.companionLoRA.first { $0.target == layer.path })
                XCTAssertEqual(layer.scale, 1)
                XCTAssertEqual(layer.down.scalars, update.down.scalars, layer.path)
                XCTAssertEqual(layer.up.scalars, update.up.scalars, layer.path)
            }
        }
        // The published FaceID run minus the saved LoRA (scale -1) is the diffusers-layout run without it.
        let face = try Self.faceEmbedding(), golden = try Self.file("faceid-golden.safetensors")
        func run(_ file: String, loraScale: Float?) throws -> Tensor {
            let pipeline = try pipeline(file)
            var request = PreparedRequest.ipAdapterGolden(noise: try golden.tensor("noise"), references: [], faceEmbedding: face)
            request.loras = try loraScale.map { [(try companionLoRAFile("faceid", for: pipeline), $0)] } ?? []
            return try pipeline.generate(request).latents
        }
        let cancelled = try run("faceid.safetensors", loraScale: -1)
        let bare = try run("faceid-diffusers.safetensors", loraScale: nil)
        XCTAssertLessThan(relativeDifference(cancelled, bare), 1e-4)
        XCTAssertGreaterThan(relativeDifference(bare, try golden.tensor("latents")), 0.1)
        // A companion factor that does not fit its layer is refused by name.
        let source = try Self.file("faceid.safetensors")
        var tensors: [String: Tensor] = [:]
        for name in source.tensorNames { tensors[name] = try source.tensor(name) }
        tensors["ip_adapter.1.to_v_lora.up.weight"] = Tensor(shape: [7, 2])
        let broken = Fixtures.temporaryDirectory("ip-variants").appendingPathComponent("faceid-bad-lora.safetensors")
        try SafetensorsWriter.write(tensors, to: broken)
        XCTAssertThrowsError(try PhotoVerseAdapter.load(broken, for: unet)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("faceid-bad-lora.safetensors") && text.contains("ip_adapter.1.to_v_lora.up.weight"), text)
        }
    }

    // MARK: recognition

    func testRecognitionFromNamesAndItsErrors() throws {
        func kind(_ names: [String], shapes: [String: [Int]] = [:]) throws -> IPAdapterKind? {
            try IPAdapterKind.recognise(Set(names), shape: { shapes[$0] }, file: "x.safetensors")
        }
        XCTAssertNil(try kind(["text_adapter.mapping_0.0.weight"]))
        XCTAssertEqual(try kind(["image_proj.proj.weight", "ip_adapter.1.to_k_ip.weight"])?.variant, .plain)
        XCTAssertEqual(try kind(["image_proj.latents"])?.variant, .plus)
        XCTAssertEqual(try kind(["image_proj.proj.0.weight", "image_proj.proj.3.weight"])?.variant, .fullFace)
        XCTAssertEqual(try kind(["image_proj.proj.0.weight", "image_proj.norm.weight"])?.variant, .faceID)
        XCTAssertEqual(try kind(["image_proj.proj.0.weight", "image_proj.norm.weight",
                                 "image_proj.perceiver_resampler.proj_in.weight"])?.variant, .faceIDPlus)
        let d = "encoder_hid_proj.image_projection_layers.0."
        XCTAssertEqual(try kind([d + "image_embeds.weight"]), IPAdapterKind(variant: .plain, layout: .diffusers))
        XCTAssertEqual(try kind([d + "ff.net.2.weight", d + "norm.weight"], shapes: [d + "ff.net.2.weight": [32, 32], d + "norm.weight": [32]])?.variant,
                       .fullFace)
        XCTAssertEqual(try kind([d + "ff.net.2.weight", d + "norm.weight"], shapes: [d + "ff.net.2.weight": [128, 64], d + "norm.weight": [32]])?.variant,
                       .faceID)
        func refusal(_ names: [String]) -> String {
            do {
                _ = try kind(names)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        let unknown = refusal(["image_proj.something.weight"])
        XCTAssertTrue(unknown.contains("x.safetensors") && unknown.contains("matches no SD1.5 variant") && unknown.contains("FaceID-Plus"), unknown)
        XCTAssertFalse(unknown.contains("\n"), unknown)
        XCTAssertTrue(refusal(["image_proj.proj.weight", d + "image_embeds.weight"]).contains("mixes"))
        XCTAssertTrue(refusal([d + "image_embeds.weight", "encoder_hid_proj.image_projection_layers.1.image_embeds.weight"])
            .contains("several IP-Adapters"))
    }

    /// A file whose image projection is recognised but whose tensors are wrong names them in one line.
    func testMisShapedVariantFileIsRefusedByName() throws {
        let source = try Self.file("plus.safetensors")
        var tensors: [String: Tensor] = [:]
        for name in source.tensorNames where name != "image_proj.layers.2.0.to_kv.weight" { tensors[name] = try source.tensor(name) }
        let dir = Fixtures.temporaryDirectory("ip-variants")
        let broken = dir.appendingPathComponent("plus-broken.safetensors")
        try SafetensorsWriter.write(tensors, to: broken)
        let unet = try pipeline("plain.safetensors").unet
        XCTAssertThrowsError(try PhotoVerseAdapter.load(broken, for: unet)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("plus-broken.safetensors") && text.contains("image_proj.layers.2.0.to_kv.weight"), text)
        }
    }

    // MARK: the request

    func testFaceEmbeddingFilesAgreeAndBadOnesAreRefused() throws {
        let npy = try FaceEmbeddingFile.load(Fixtures.url("\(Self.folder)/face_embedding.npy"))
        XCTAssertEqual(npy.shape, [1, 64])
        XCTAssertEqual(npy.scalars, try Self.faceEmbedding().scalars)
        let dir = Fixtures.temporaryDirectory("ip-variants")
        let int = dir.appendingPathComponent("int.npy")
        var header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }"
        header += String(repeating: " ", count: 63 - (10 + header.utf8.count) % 64) + "\n"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
        bytes += [UInt8](repeating: 0, count: 8)
        try Data(bytes).write(to: int)
        XCTAssertThrowsError(try FaceEmbeddingFile.load(int)) { XCTAssertTrue("\($0)".contains("int.npy") && "\($0)".contains("<i4"), "\($0)") }
        let matrix = dir.appendingPathComponent("matrix.safetensors")
        try SafetensorsWriter.write(["embedding": Tensor(shape: [2, 64])], to: matrix)
        XCTAssertThrowsError(try FaceEmbeddingFile.load(matrix)) { XCTAssertTrue("\($0)".contains("matrix.safetensors"), "\($0)") }
    }

    func testRequestsNameWhatTheVariantNeeds() throws {
        let pipeline = try GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"), faces: shippedFaces)
        func refusal(_ edit: (inout GenerationRequest) -> Void) -> String {
            var request = GenerationRequest(prompt: "a photo")
            request.steps = 1
            request.width = 64
            request.height = 64
            request.identity.imageEncoder = Self.imageEncoder.path
            edit(&request)
            do {
                _ = try pipeline.prepare(request)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        let faceID = Fixtures.url("\(Self.folder)/faceid.safetensors").path
        let plain = Fixtures.url("\(Self.folder)/plain.safetensors").path
        let embedding = Fixtures.url("\(Self.folder)/face_embedding.npy").path
        let reference = ReferenceSource(path: Fixtures.url("photoverse-golden/reference.png").path, crop: .none)
        let noEmbedding = refusal { $0.identity.adapter = faceID; $0.identity.references = [reference] }
        XCTAssertTrue(noEmbedding.contains("--reference") && noEmbedding.contains("FaceID"), noEmbedding)
        let needsEmbedding = refusal { $0.identity.adapter = faceID; $0.identity.faceEmbedding = nil; $0.identity.references = [] }
        XCTAssertTrue(needsEmbedding.contains("--adapter needs"), needsEmbedding)
        let shortcut = refusal { $0.identity.adapter = faceID; $0.identity.faceEmbedding = embedding; $0.identity.shortcutScale = 1 }
        XCTAssertTrue(shortcut.contains("--shortcut-scale") && shortcut.contains("FaceID-Plus"), shortcut)
        let unused = refusal { $0.identity.adapter = plain; $0.identity.references = [reference]; $0.identity.faceEmbedding = embedding }
        XCTAssertTrue(unused.contains("--face-embedding") && unused.contains("reads no face embedding"), unused)
        let wide = Fixtures.temporaryDirectory("ip-variants").appendingPathComponent("wide.safetensors")
        try SafetensorsWriter.write(["embedding": Tensor(shape: [512])], to: wide)
        let width = refusal { $0.identity.adapter = faceID; $0.identity.faceEmbedding = wide.path }
        XCTAssertTrue(width.contains("wide.safetensors") && width.contains("512 values") && width.contains("reads 64"), width)
        // A good FaceID request prepares; diffusers' layout without a LoRA file gets a note that its companion LoRA is apart.
        var request = GenerationRequest(prompt: "a photo")
        request.steps = 1
        request.width = 64
        request.height = 64
        request.identity.adapter = faceID
        request.identity.faceEmbedding = embedding
        let prepared = try pipeline.prepare(request)
        XCTAssertEqual(prepared.personalization?.faceEmbedding?.shape, [1, 64])
        XCTAssertFalse(prepared.notes.contains { $0.contains("companion LoRA") }, "\(prepared.notes)")
        request.identity.adapter = Fixtures.url("\(Self.folder)/faceid-diffusers.safetensors").path
        let apart = try pipeline.prepare(request).notes
        XCTAssertTrue(apart.contains { $0.contains("companion LoRA") && $0.contains("--lora") }, "\(apart)")
        request.loras = [LoRAChoice(path: Fixtures.url("\(Self.folder)/faceid-lora.safetensors").path, scale: 1)]
        XCTAssertFalse(try pipeline.prepare(request).notes.contains { $0.contains("companion LoRA") })
    }

    /// The new knobs are part of the PNG's record; a record written before them still loads.
    func testKnobsRoundTripAndOldRecordsLoad() throws {
        var request = GenerationRequest(prompt: "p")
        request.identity.faceEmbedding = "face.npy"
        request.identity.shortcutScale = 0.7
        let data = try JSONEncoder().encode(request)
        XCTAssertEqual(try JSONDecoder().decode(GenerationRequest.self, from: data), request)
        let old = #"{"prompt":"p","identity":{"references":[],"imageWeight":0.5}}"#
        let decoded = try JSONDecoder().decode(GenerationRequest.self, from: Data(old.utf8))
        XCTAssertNil(decoded.identity.faceEmbedding)
        XCTAssertNil(decoded.identity.shortcutScale)
        XCTAssertEqual(decoded.identity.imageWeight, 0.5)
    }
}
