import Foundation
import Pipeline
import Synchronization
import TestSupport
import XCTest

/// A run stops where it is asked to: between layers inside a step (SD1.5's steps take
/// seconds), during the decode, or before the first step; and it says at which step.
final class StopFlagTests: XCTestCase {
    static let pipeline = try! GenerationPipeline(modelFolder: Fixtures.url("tiny-sd"), faces: shippedFaces)

    static func request(steps: Int = 6) -> PreparedRequest {
        var request = PreparedRequest(prompt: "a fox")
        request.steps = steps
        request.width = 64
        request.height = 64
        return request
    }

    /// A flag that turns itself on at its `after`-th check, counting every check.
    final class CountingFlag: Sendable {
        let checks = Atomic<Int>(0)
        let after: Int
        init(after: Int) { self.after = after }
        func makeFlag() -> StopFlag {
            StopFlag(poll: { [self] in checks.add(1, ordering: .relaxed).newValue >= after })
        }
    }

    func testARaisedFlagStopsBeforeTheFirstStep() throws {
        let flag = StopFlag()
        flag.raise()
        var steps = 0
        XCTAssertThrowsError(try Self.pipeline.generate(Self.request(), stop: flag) { _ in steps += 1; return true }) {
            XCTAssertEqual(($0 as? GenerationCancelled)?.step, 0)
            XCTAssertEqual("\($0)", "stopped at step 0/6")
        }
        XCTAssertEqual(steps, 0)
    }

    func testTheFlagInterruptsAStepBetweenLayers() throws {
        // How many checks one whole run makes, with a flag that never fires.
        let quiet = CountingFlag(after: .max)
        _ = try Self.pipeline.generate(Self.request(), stop: quiet.makeFlag())
        let perRun = quiet.checks.load(ordering: .relaxed)
        let perStep = (perRun - 1) / 7   // one before the loop, 6 steps, the decode
        XCTAssertGreaterThan(perStep, 10, "the UNet checks between its layers, not once a step")
        // Fire half-way through the third step: it must not finish (no third progress event).
        let counting = CountingFlag(after: 1 + 2 * perStep + 1 + perStep / 2)
        var seen: [Int] = []
        XCTAssertThrowsError(try Self.pipeline.generate(Self.request(), stop: counting.makeFlag()) { seen.append($0.step); return true }) {
            XCTAssertEqual("\($0)", "stopped at step 2/6")
        }
        XCTAssertEqual(seen, [1, 2])
        XCTAssertEqual(counting.checks.load(ordering: .relaxed), counting.after, "stopped at the first check after the flag")
    }

    func testTheFlagInterruptsTheDecode() throws {
        let quiet = CountingFlag(after: .max)
        _ = try Self.pipeline.generate(Self.request(steps: 2), stop: quiet.makeFlag())
        // The last few checks belong to the VAE decode: fire at the one before last.
        let counting = CountingFlag(after: quiet.checks.load(ordering: .relaxed) - 1)
        XCTAssertThrowsError(try Self.pipeline.generate(Self.request(steps: 2), stop: counting.makeFlag())) {
            XCTAssertEqual("\($0)", "stopped at step 2/2")
        }
    }

    func testAFlagFromAnotherThreadStopsARunningGeneration() throws {
        let flag = StopFlag()
        let started = DispatchSemaphore(value: 0)
        let outcome = Mutex<String>("")
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            do {
                _ = try Self.pipeline.generate(Self.request(steps: 900), stop: flag) { step in
                    if step.step == 1 { started.signal() }
                    return true
                }
                outcome.withLock { $0 = "finished" }
            } catch {
                outcome.withLock { $0 = "\(error)" }
            }
            started.signal()
            done.signal()
        }
        XCTAssertEqual(started.wait(timeout: .now() + 30), .success, "the run did not start")
        flag.raise()
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success, "the run did not stop")
        XCTAssertTrue(outcome.withLock { $0 }.hasPrefix("stopped at step "), outcome.withLock { $0 })
    }
}
