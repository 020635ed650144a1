import Foundation
import Formats
import Models
@testable import Pipeline
import TensorCore
import TestSupport
import XCTest

/// The knobs move the prediction the way the README documents, on the fixture model:
/// σ, γ and α each move ε further from where the knob is 0, steadily as they grow;
/// s_I and s_T push the guided ε along ε(id) − ε(∅) and ε(id+prompt) − ε(id); m changes
/// the prompt's embedding only where S* stands.
final class PhotoVerseKnobTests: XCTestCase {
    static let golden = "photoverse-golden"
    let unetFile = try! SafetensorsFile(url: Fixtures.url("photoverse-golden/unet.safetensors"))
    var pipeline: GenerationPipeline { PhotoVerseParityTests.pipeline }

    func epsilon(gamma: Float = 1, sigma: Float = 1, alpha: Float = 1) throws -> Tensor {
        let conditioning = CrossAttentionConditioning(
            text: try unetFile.tensor("encoder_hidden_states"), imageTokens: try unetFile.tensor("image_tokens"),
            adapters: pipeline.identity!.adapter.layers, textWeight: gamma, imageWeight: sigma, loraScale: alpha)
        return pipeline.unet(try unetFile.tensor("sample"), timestep: 501, conditioning: conditioning)
    }

    func distance(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.scalars, b.scalars).reduce(0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot()
    }

    func assertGrowing(_ values: [Double], _ knob: String) {
        XCTAssertGreaterThan(values.first ?? 0, 0, "\(knob): a non-zero setting must change ε")
        for (a, b) in zip(values, values.dropFirst()) { XCTAssertGreaterThan(b, a, "\(knob): \(values)") }
    }

    func testImageWeightSigmaMovesAwayFromTextOnly() throws {
        let off = try epsilon(sigma: 0)
        assertGrowing(try [0.25, 0.5, 1, 2].map { distance(try epsilon(sigma: $0), off) }, "σ")
    }

    func testTextWeightGammaMovesAwayFromImageOnly() throws {
        let off = try epsilon(gamma: 0)
        assertGrowing(try [0.25, 0.5, 1, 2].map { distance(try epsilon(gamma: $0), off) }, "γ")
    }

    func testLoRAScaleAlphaMovesAwayFromTheBaseProjections() throws {
        let off = try epsilon(alpha: 0)
        assertGrowing(try [0.25, 0.5, 1, 2].map { distance(try epsilon(alpha: $0), off) }, "α")
    }

    func testGuidanceScalesPushAlongTheirOwnDifferences() throws {
        let rows = try epsilon()   // two rows; make a third from their mean for ε(id)
        let parts = rows.chunked(2, axis: 0)
        let none = parts[0], full = parts[1], id = Tensor.linearCombination(0.5, parts[0], 0.5, parts[1]) + 0.1
        let batch = Tensor.concat([none, id, full], axis: 0)
        func dot(_ a: Tensor, _ b: Tensor) -> Double { zip(a.scalars, b.scalars).reduce(0) { $0 + Double($1.0 * $1.1) } }
        let identityDirection = id - none, promptDirection = full - id
        let base = GuidanceBatch.threeTerm(identity: 3, prompt: 7.5).combine(batch)
        let moreIdentity = GuidanceBatch.threeTerm(identity: 4, prompt: 7.5).combine(batch)
        let morePrompt = GuidanceBatch.threeTerm(identity: 3, prompt: 8.5).combine(batch)
        // Raising s_I by 1 adds exactly ε(id) − ε(∅); raising s_T by 1 adds ε(id+prompt) − ε(id).
        XCTAssertLessThan((moreIdentity - base).maxAbsDifference(identityDirection), 1e-4)
        XCTAssertLessThan((morePrompt - base).maxAbsDifference(promptDirection), 1e-4)
        XCTAssertGreaterThan(dot(moreIdentity - base, identityDirection), 0)
        XCTAssertGreaterThan(dot(morePrompt - base, promptDirection), 0)
        // s_I = s_T needs no identity row: two-pass on [∅, full] gives the same ε.
        let three = GuidanceBatch.threeTerm(identity: 7.5, prompt: 7.5).combine(batch)
        let two = GuidanceBatch(promptScale: 7.5, identityScale: 7.5)
        XCTAssertEqual(two, .twoPass(scale: 7.5))
        XCTAssertLessThan(three.maxAbsDifference(two.combine(Tensor.concat([none, full], axis: 0))), 1e-4)
    }

    func testPseudoWordCountChangesOnlyThePlaceholderPositionsInput() throws {
        let words = try pipeline.identity!.encode([try PhotoVerseParityTests.reference("resized")]).pseudoWords!
        func embed(_ m: Int) -> Tensor {
            let tokens = pipeline.tokenizer.tokenize("a photo of S* on the moon", placeholder: "S*", slots: m)
            return pipeline.textEncoder.encode(tokens, pseudoWords: words.slice(axis: 1, start: 0, length: m))
        }
        let one = embed(1), three = embed(3)
        XCTAssertGreaterThan(distance(one, three), 1e-3, "m = 3 must give a different prompt embedding than m = 1")
        // Tokens before S* are causal-masked from it: identical for every m.
        let prefix = 4 * pipeline.textEncoder.config.hiddenSize
        XCTAssertEqual(Array(one.scalars.prefix(prefix)), Array(three.scalars.prefix(prefix)))
    }

    func testBadKnobValuesAreRefusedWithOneLine() throws {
        var request = PreparedRequest(prompt: "S*")
        request.width = 64
        request.height = 64
        request.steps = 1
        var p = Personalization(references: [try PhotoVerseParityTests.reference("resized")])
        p.pseudoWords = 9
        request.personalization = p
        XCTAssertThrowsError(try pipeline.generate(request)) { error in
            XCTAssertEqual("\(error)", "pseudo-words m = 9 is outside 1...3 (the adapter's layers)")
        }
        let plain = try GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"), faces: shippedFaces)
        request.personalization!.pseudoWords = 1
        XCTAssertThrowsError(try plain.generate(request)) { error in
            XCTAssertTrue("\(error)".contains("--adapter"), "\(error)")
        }
    }
}
