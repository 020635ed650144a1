import Pipeline
@testable import TUI
import XCTest

final class GenerationSettingsTests: XCTestCase {
    func testRoundTripThroughAPNGRecord() {
        var s = GenerationSettings()
        s.prompt = "S* as a knight"
        s.negativePrompt = "blurry"
        s.guidance = 6
        s.identityGuidance = 3
        s.imageWeight = 0.7
        s.textWeight = 1.2
        s.loraScale = 0.5
        s.pseudoWords = 2
        s.steps = 12
        s.sampler = "euler_a"
        s.width = 256
        s.height = 320
        s.imageStart = 0.1
        s.imageEnd = 0.9
        s.referencePath = "/photos/me.jpg"
        s.crop = "none"
        let record = s.record(seed: 77, model: "mini", personalized: true, usedStrength: false)
        var back = GenerationSettings()
        back.apply(record)
        XCTAssertEqual(back.seed, 77)
        XCTAssertTrue(back.seedLocked)
        back.seed = s.seed
        back.seedLocked = s.seedLocked
        XCTAssertEqual(back, s)
    }

    func testPlainRunsRecordNoIdentity() {
        var s = GenerationSettings()
        s.referencePath = "/photos/me.jpg"
        let record = s.record(seed: 1, model: "tiny", personalized: false, usedStrength: false)
        XCTAssertNil(record.references)
        XCTAssertNil(record.imageWeight)
    }

    func testOldConfigsKeepDefaultsForMissingKeys() throws {
        let decoded = try JSONDecoder().decode(GenerationSettings.self, from: Data(#"{"prompt": "x", "steps": 9}"#.utf8))
        XCTAssertEqual(decoded.prompt, "x")
        XCTAssertEqual(decoded.steps, 9)
        XCTAssertEqual(decoded.guidance, GenerationSettings().guidance)
    }

    func testRequestAndPersonalization() {
        var s = GenerationSettings()
        s.imageWeight = 0.5
        s.identityGuidance = 4
        let request = s.request(seed: 9)
        XCTAssertEqual(request.seed, 9)
        XCTAssertEqual(request.sampler, .ddim)
        XCTAssertNil(request.personalization)
        let p = s.personalization(reference: .init(width: 4, height: 4, color: .white))
        XCTAssertEqual(p.imageWeight, 0.5)
        XCTAssertEqual(p.identityGuidance, 4)
        XCTAssertEqual(p.references.count, 1)
    }
}
