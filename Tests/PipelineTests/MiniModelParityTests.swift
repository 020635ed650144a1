import Foundation
import Formats
import Models
import Pipeline
import Sampling
import TensorCore
import TestSupport
import XCTest

/// The embedded model (Models/mini) generates what the PyTorch reference generates from the same
/// folder and the same noise (goldens by training/fixtures/make_mini_golden.py): plain
/// text-to-image, full PhotoVerse with a shipped reference, three-term guidance. Latents within
/// 1e-3 of the largest latent, decoded pixels within one 8-bit level, 1/255 (of the 0...1 range;
/// observed ~1e-5). The plain case is also diffusers' own StableDiffusionPipeline on the same
/// folder and noise: training/tests/test_committed_fixtures.py checks the golden against it.
final class MiniModelParityTests: XCTestCase {
    struct Golden: Decodable {
        struct Case: Decodable {
            let name: String, sampler: String, prompt: String, negativePrompt: String, references: [String]
            let steps: Int, sImage: Float, sText: Float, gamma: Float, sigma: Float, alpha: Float
            let numWords: Int?, noise: String, latents: String, image: String?
        }
        let model: String
        let size: Int
        let cases: [Case]
    }

    static let goldenFolder = Fixtures.url("mini-golden")

    static let golden: Golden = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(Golden.self, from: Data(contentsOf: goldenFolder.appendingPathComponent("cases.json")))
    }()

    /// The folder the goldens were made from, relative to the repository root.
    static var modelFolder: URL {
        Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(golden.model)
    }

    func testEmbeddedModelMatchesPyTorch() throws {
        let folder = Self.modelFolder
        let pipeline = try GenerationPipeline(modelFolder: folder, faces: shippedFaces)
        try pipeline.loadIdentity(adapter: folder.appendingPathComponent(ModelFolder.adapterFileName), imageEncoderFolder: folder)
        let tensors = try SafetensorsFile(url: Self.goldenFolder.appendingPathComponent("golden.safetensors"))
        for name in ["plain_ddim", "full_ddim", "three_term_euler"] where !Self.golden.cases.contains(where: { $0.name == name }) {
            XCTFail("mini-golden case \(name) is missing from cases.json")
        }
        for c in Self.golden.cases {
            guard let sampler = SamplerKind(rawValue: c.sampler) else {
                XCTFail("\(c.name): no sampler \(c.sampler)")
                continue
            }
            var request = PreparedRequest(prompt: c.prompt)
            request.negativePrompt = c.negativePrompt
            request.steps = c.steps
            request.sampler = sampler
            request.guidance = c.sText
            request.width = Self.golden.size
            request.height = Self.golden.size
            request.noise = try tensors.tensor(c.noise)
            if !c.references.isEmpty {
                let images = try c.references.map {
                    try ImageFile.load(folder.appendingPathComponent("references").appendingPathComponent($0))
                }
                var p = Personalization(references: images)
                p.textWeight = c.gamma
                p.imageWeight = c.sigma
                p.loraScale = c.alpha
                p.pseudoWords = c.numWords
                p.identityGuidance = c.sImage
                request.personalization = p
            }
            let result = try pipeline.generate(request)
            let expected = try tensors.tensor(c.latents)
            XCTAssertEqual(result.latents.shape, expected.shape, c.name)
            let scale = max(expected.scalars.map(abs).max() ?? 1, 1)
            let relative = result.latents.maxAbsDifference(expected) / scale
            XCTAssertLessThan(relative, 1e-3, c.name)
            print("\(c.name): latents within \(relative) of the largest")
            if let imageName = c.image {
                // golden pixels are in [-1, 1]; the pipeline's image is in [0, 1]
                let pixels = try tensors.tensor(imageName).scalars.map { $0 * 0.5 + 0.5 }
                XCTAssertEqual(result.image.scalars.count, pixels.count, c.name)
                let worst = zip(result.image.scalars, pixels).map { abs($0 - $1) }.max() ?? .infinity
                XCTAssertLessThan(worst, 1.0 / 255, "\(c.name): decoded pixels")
                print("\(c.name): decoded pixels within \(worst)")
            }
        }
    }
}
