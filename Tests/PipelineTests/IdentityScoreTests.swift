import Foundation
import Formats
import Models
import Pipeline
import TensorCore
import TestSupport
import XCTest

/// The identity score: PhotoVerse-mini's evaluator ported to Swift against the golden pair its
/// export writes (FORMAT.md section 12, "a port must match it to about 1e-5") and against
/// PyTorch's crop + network on a real photo (Tests/Fixtures/mini-evaluator, made by
/// training/fixtures/make_evaluator_fixtures.py from a tiny random evaluator); the scorer pick;
/// the score in a result's PNG. (dlib's network: Tests/ModelsTests/DlibFaceTests.swift and
/// training/check_dlib_face.py.)
final class IdentityScoreTests: XCTestCase {
    static let folder = Fixtures.url("mini-evaluator")
    static let evaluatorFolder = folder.appendingPathComponent("evaluator")

    func testEvaluatorMatchesItsExportsGoldenPair() throws {
        let scorer = try PhotoVerseEvaluatorScorer(folder: Self.evaluatorFolder)
        let golden = try SafetensorsFile(url: Self.evaluatorFolder.appendingPathComponent("golden.safetensors"))
        let embeddings = scorer.network(try golden.tensor("crops"))
        let expected = try golden.tensor("embeddings")
        XCTAssertEqual(embeddings.shape, [2, 16])
        XCTAssertLessThan(embeddings.maxAbsDifference(expected), 1e-5)
    }

    func testEvaluatorCropsAndEmbedsAPhotoAsPyTorchDoes() throws {
        let scorer = try PhotoVerseEvaluatorScorer(folder: Self.evaluatorFolder)
        let golden = try SafetensorsFile(url: Self.folder.appendingPathComponent("photo-golden.safetensors"))
        let photo = try ImageFile.load(Fixtures.url("faces/tiny_face.png"))
        let box = scorer.network.config.faceBox!.box.map { $0 * Double(photo.width) / 64 }
        XCTAssertLessThan(scorer.network.crop(photo, box: box).maxAbsDifference(try golden.tensor("crop")), 1e-5)
        let embedding = try XCTUnwrap(scorer.embedding(of: photo, isReference: true))
        XCTAssertLessThan(Tensor(shape: [1, 16], values: embedding).maxAbsDifference(try golden.tensor("embedding")), 1e-5)
    }

    func testScoreAgainstTheReferencesAndItsAbsence() throws {
        let scoring = IdentityScoring(scorer: try PhotoVerseEvaluatorScorer(folder: Self.evaluatorFolder))
        let photo = Fixtures.url("faces/tiny_face.png")
        var request = GenerationRequest(prompt: "S*")
        XCTAssertNil(scoring.score(try ImageFile.load(photo), for: request), "no reference: no score")
        request.identity.references = [ReferenceSource(path: photo.path, crop: .none)]
        let same = try XCTUnwrap(scoring.score(try ImageFile.load(photo), for: request))
        XCTAssertEqual(same.match, 1, accuracy: 1e-6)
        XCTAssertEqual(same.description, "face match 1.00, mini evaluator")
        let other = try XCTUnwrap(scoring.score(try ImageFile.load(Fixtures.url("faces/coffee.png")), for: request))
        XCTAssertLessThan(other.match, 0.99)
        request.identity.references = [ReferenceSource(path: "/nonexistent/photo.png", crop: .none)]
        XCTAssertNil(scoring.score(try ImageFile.load(photo), for: request), "an unreadable reference gives no score")

        // An evaluator exported without the face box cannot place the face: no score, not a guess.
        let copy = Fixtures.temporaryDirectory("evaluator-nobox")
        for file in ["model.safetensors", "golden.safetensors"] {
            try FileManager.default.copyItem(at: Self.evaluatorFolder.appendingPathComponent(file), to: copy.appendingPathComponent(file))
        }
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.evaluatorFolder.appendingPathComponent("config.json"))) as! [String: Any]
        config["face_box"] = nil
        try JSONSerialization.data(withJSONObject: config).write(to: copy.appendingPathComponent("config.json"))
        let boxless = IdentityScoring(scorer: try PhotoVerseEvaluatorScorer(folder: copy))
        request.identity.references = [ReferenceSource(path: photo.path, crop: .none)]
        XCTAssertNil(boxless.score(try ImageFile.load(photo), for: request))
    }

    func testDlibMatchFigure() {
        XCTAssertEqual(DlibFaceScorer.match(distance: 0, threshold: 0.6), 1)
        XCTAssertEqual(DlibFaceScorer.match(distance: 0.6, threshold: 0.6), 0.5, accuracy: 1e-12)
        XCTAssertEqual(DlibFaceScorer.match(distance: 0.3, threshold: 0.6), 0.75, accuracy: 1e-12)
        XCTAssertEqual(DlibFaceScorer.match(distance: 2, threshold: 0.6), 0)
        XCTAssertEqual(IdentityScore(match: 0.8249, scorer: "dlib", distance: 0.21).description, "face match 0.82, dlib")
    }

    func testLocatorPrefersTheModelsEvaluator() throws {
        let model = Fixtures.temporaryDirectory("locator-model")
        XCTAssertNil(try FaceScorerLocator.scorer(model: model, dlibFolder: nil, faces: shippedFaces).flatMap { $0 as? PhotoVerseEvaluatorScorer })
        try FileManager.default.copyItem(at: Self.evaluatorFolder, to: model.appendingPathComponent("evaluator"))
        let scorer = try FaceScorerLocator.scorer(model: model, dlibFolder: URL(fileURLWithPath: "/nonexistent"), faces: shippedFaces)
        XCTAssertEqual(scorer?.name, "mini evaluator", "the model's own evaluator comes first")
        // A dlib folder named but not there: one line naming the missing file.
        XCTAssertThrowsError(try FaceScorerLocator.scorer(model: nil, dlibFolder: URL(fileURLWithPath: "/nonexistent/dlib-face"), faces: shippedFaces)) {
            XCTAssertTrue("\($0)".contains("/nonexistent/dlib-face/resnet.json: not found"), "\($0)")
            XCTAssertTrue("\($0)".contains("convert_dlib_face.py"), "\($0)")
        }
    }

    func testPNGRecordCarriesTheScoreBesideTheRequest() throws {
        let dir = Fixtures.temporaryDirectory("score-png")
        var request = GenerationRequest(prompt: "S* at the beach")
        request.identity.references = [ReferenceSource(path: "face.png", crop: .auto)]
        let score = IdentityScore(match: 0.714, scorer: "mini evaluator")
        let image = RGBImage(width: 8, height: 8, color: .white)
        let scored = try request.save(image, to: dir.appendingPathComponent("scored.png"), inFolder: dir, score: score)
        XCTAssertEqual(ResultRecord.load(from: scored)?.identityScore, score)
        let text = try PNGCodec.readText(scored)
        XCTAssertTrue(text["parameters"]?.hasSuffix(", Face match: 0.71 (mini evaluator)") ?? false, text["parameters"] ?? "")
        XCTAssertEqual(text["photoverse-result"], #"{"identity_score":{"match":0.71,"references":1,"scorer":"mini evaluator"}}"#)
        XCTAssertEqual(try GenerationRequest.load(from: scored), request, "the request loads as before")
        let unscored = try request.save(image, to: dir.appendingPathComponent("plain.png"), inFolder: dir)
        XCTAssertNil(ResultRecord.load(from: unscored))
        XCTAssertNil(try PNGCodec.readText(unscored)["photoverse-result"])
    }
}
