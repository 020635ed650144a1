import Pipeline
@testable import TUI
import XCTest

final class ParameterFieldTests: XCTestCase {
    func testAdjustStepsAndClamps() {
        var s = GenerationSettings()
        ParameterField.guidance.adjust(&s, by: 1)
        XCTAssertEqual(s.request.guidance, 8)
        ParameterField.guidance.adjust(&s, by: 1, coarse: true)
        XCTAssertEqual(s.request.guidance, 10.5)
        for _ in 0..<100 { ParameterField.imageWeight.adjust(&s, by: -1) }
        XCTAssertEqual(s.request.identity.imageWeight, 0, "clamped at 0")
        ParameterField.steps.adjust(&s, by: -1, coarse: true)
        XCTAssertEqual(s.request.steps, 20)
        ParameterField.width.adjust(&s, by: 1)
        XCTAssertEqual(s.request.width, 576)
        ParameterField.sampler.adjust(&s, by: -1)
        XCTAssertEqual(s.request.sampler.rawValue, "lcm", "wraps around")
    }

    func testOptionalKnobsTurnOffBelowTheirRange() {
        var s = GenerationSettings()
        XCTAssertEqual(ParameterField.identityGuidance.value(in: s), "same (7.5)")
        ParameterField.identityGuidance.adjust(&s, by: 1)
        XCTAssertEqual(s.request.identity.identityGuidance, 8, "→ on same goes up from the prompt's 7.5")
        ParameterField.identityGuidance.adjust(&s, by: -1)
        XCTAssertNil(s.request.identity.identityGuidance, "back on the prompt's value is same")
        ParameterField.identityGuidance.adjust(&s, by: -1)
        XCTAssertEqual(s.request.identity.identityGuidance, 7, "← on same goes below it")
        ParameterField.strength.adjust(&s, by: 1)
        XCTAssertEqual(s.request.strength ?? 0, 0.05, accuracy: 1e-9)
        ParameterField.strength.adjust(&s, by: -1)
        XCTAssertNil(s.request.strength)
        XCTAssertEqual(ParameterField.strength.value(in: s), "off")
    }

    func testImageWindowStaysOrdered() {
        var s = GenerationSettings()
        s.request.identity.imageEnd = 0.3
        for _ in 0..<20 { ParameterField.imageStart.adjust(&s, by: 1) }
        XCTAssertEqual(s.request.identity.imageStart, 0.3, accuracy: 1e-9, "start cannot pass the end")
    }

    func testTypedValues() throws {
        var s = GenerationSettings()
        try ParameterField.seed.set(&s, from: "1234")
        XCTAssertEqual(s.request.seed, 1234)
        XCTAssertTrue(s.seedLocked, "typing a seed means wanting it")
        try ParameterField.sampler.set(&s, from: "Euler a")
        XCTAssertEqual(s.request.sampler.rawValue, "euler_a")
        try ParameterField.sampler.set(&s, from: "dpmpp-2m-karras")
        XCTAssertEqual(s.request.sampler.rawValue, "dpmpp_2m_karras")
        try ParameterField.strength.set(&s, from: "off")
        XCTAssertNil(s.request.strength)
        XCTAssertThrowsError(try ParameterField.guidance.set(&s, from: "99")) {
            XCTAssertEqual("\($0)", "Prompt guidance: 99 is outside 1.0…30.0")
        }
        XCTAssertThrowsError(try ParameterField.width.set(&s, from: "100")) {
            XCTAssertEqual("\($0)", "Width: 100 is not a multiple of 8")
        }
        XCTAssertThrowsError(try ParameterField.steps.set(&s, from: "many")) {
            XCTAssertEqual("\($0)", "Steps: 'many' is not a whole number")
        }
    }

    func testIdentityKnobsAreMarked() {
        XCTAssertEqual(ParameterField.allCases.filter(\.needsIdentity),
                       [.identityGuidance, .textWeight, .imageWeight, .loraScale, .pseudoWords, .imageStart, .imageEnd, .strength])
    }
}
