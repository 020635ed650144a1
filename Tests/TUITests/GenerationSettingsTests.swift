import Foundation
import Pipeline
@testable import TUI
import XCTest

final class GenerationSettingsTests: XCTestCase {
    func testARunsRequestReloadsIntoTheSameSettings() {
        var s = GenerationSettings()
        s.request.prompt = "S* as a knight"
        s.request.negativePrompt = "blurry"
        s.request.guidance = 6
        s.request.identity.identityGuidance = 3
        s.request.identity.imageWeight = 0.7
        s.request.identity.textWeight = 1.2
        s.request.identity.loraScale = 0.5
        s.request.identity.pseudoWords = 2
        s.request.steps = 12
        s.request.sampler = .eulerAncestral
        s.request.width = 256
        s.request.height = 320
        s.request.identity.imageStart = 0.1
        s.request.identity.imageEnd = 0.9
        s.referencePath = "/photos/me.jpg"
        s.crop = .box(x: 1, y: 2, width: 30, height: 40)
        s.batch = 4
        let run = s.request(seed: 77, modelFolder: URL(fileURLWithPath: "/m/mini"), modelHasIdentity: true)
        XCTAssertEqual(run.model, "/m/mini")
        XCTAssertEqual(run.identity.references, [ReferenceSource(path: "/photos/me.jpg", crop: .box(x: 1, y: 2, width: 30, height: 40))],
                       "an x,y,w,h crop travels as itself")
        var back = GenerationSettings()
        back.load(run)
        XCTAssertEqual(back.request, run)
        XCTAssertTrue(back.seedLocked)
        XCTAssertEqual(back.batch, 1, "a reload is one run again")
        XCTAssertEqual(back.crop, s.crop)
    }

    func testRunsOnAModelWithoutIdentityDropTheReferenceAndStrength() {
        var s = GenerationSettings()
        s.referencePath = "/photos/me.jpg"
        s.request.strength = 0.5
        let plain = s.request(seed: 1, modelFolder: URL(fileURLWithPath: "/m/tiny"), modelHasIdentity: false)
        XCTAssertFalse(plain.isPersonalized)
        XCTAssertNil(plain.strength, "strength starts from the reference: nothing to start from")
        let personal = s.request(seed: 1, modelFolder: URL(fileURLWithPath: "/m/mini"), modelHasIdentity: true)
        XCTAssertEqual(personal.strength, 0.5)
    }

    func testCropCyclesThroughTheLastBox() {
        var s = GenerationSettings()
        s.referencePath = "/p.png"
        XCTAssertEqual(s.crop, .auto)
        s.cycleCrop()
        XCTAssertEqual(s.crop, .none)
        s.cycleCrop()
        XCTAssertEqual(s.crop, .auto, "no box known yet")
        s.crop = .box(x: 0, y: 0, width: 10, height: 10)
        s.cycleCrop()
        s.cycleCrop()
        s.cycleCrop()
        XCTAssertEqual(s.crop, .box(x: 0, y: 0, width: 10, height: 10), "auto → none → the box")
    }

    func testSettingsRoundTripThroughJSON() throws {
        var s = GenerationSettings()
        s.referencePath = "/p.png"
        s.crop = .none
        s.seedLocked = true
        s.batch = 3
        let back = try JSONDecoder().decode(GenerationSettings.self, from: try JSONEncoder().encode(s))
        XCTAssertEqual(back, s)
    }

    func testOldFlatConfigsStillLoad() throws {
        let json = #"{"prompt": "x", "steps": 9, "imageWeight": 0.25, "referencePath": "/p.png", "crop": "10,20,30,40", "seedLocked": true}"#
        let decoded = try JSONDecoder().decode(GenerationSettings.self, from: Data(json.utf8))
        XCTAssertEqual(decoded.request.prompt, "x")
        XCTAssertEqual(decoded.request.steps, 9)
        XCTAssertEqual(decoded.request.guidance, GenerationSettings().request.guidance)
        XCTAssertEqual(decoded.request.identity.imageWeight, 0.25)
        XCTAssertEqual(decoded.referencePath, "/p.png")
        XCTAssertEqual(decoded.crop, .box(x: 10, y: 20, width: 30, height: 40))
        XCTAssertTrue(decoded.seedLocked)
    }
}
