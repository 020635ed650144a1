import Formats
import Pipeline
import TestSupport
@testable import TUI
import XCTest

/// The real engine on the tiny model: events in order, files written, cancellation between steps.
final class GenerationEngineTests: XCTestCase {
    func waitFor(_ mailbox: Mailbox<EngineEvent>, timeout: Double = 30, until done: ([EngineEvent]) -> Bool) -> [EngineEvent] {
        var events: [EngineEvent] = []
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && !done(events) {
            events += mailbox.takeAll()
            Thread.sleep(forTimeInterval: 0.005)
        }
        return events
    }

    /// The engine on the tiny model, started, its events going to `mailbox`.
    func startedEngine(_ mailbox: Mailbox<EngineEvent>) -> GenerationEngine {
        let engine = GenerationEngine(modelFolder: Fixtures.url("tiny-sd"), faces: shippedFaces, mailbox: mailbox)
        engine.start()
        return engine
    }

    func tinySettings(steps: Int, size: Int) -> GenerationSettings {
        var settings = GenerationSettings()
        settings.request.steps = steps
        settings.request.width = size
        settings.request.height = size
        return settings
    }

    func testRunsQueuedJobsAndReportsEveryStep() throws {
        let out = Fixtures.temporaryDirectory("engine")
        defer { try? FileManager.default.removeItem(at: out) }
        let mailbox = Mailbox<EngineEvent>()
        let engine = startedEngine(mailbox)
        let settings = tinySettings(steps: 4, size: 64)
        let queuedAt = Date()
        engine.enqueue([GenerationJob(id: 1, settings: settings, seed: 1, outputFolder: out),
                        GenerationJob(id: 2, settings: settings, seed: 2, outputFolder: out)])
        XCTAssertTrue(engine.isBusy)
        var firstPreview: Double?
        let events = waitFor(mailbox) { events in
            if firstPreview == nil, events.contains(where: { if case .runProgress = $0 { return true }; return false }) {
                firstPreview = Date().timeIntervalSince(queuedAt)
            }
            return events.filter { if case .runFinished = $0 { return true }; return false }.count == 2
        }
        guard case .modelLoaded(let model) = events.first else { return XCTFail("model first: \(events)") }
        XCTAssertFalse(model.hasIdentity)
        XCTAssertEqual(model.nativeSize, 64)
        let steps = events.compactMap { event -> Int? in if case .runProgress(1, let step, 4, _, let preview) = event, preview?.width == 64 { return step }; return nil }
        XCTAssertEqual(steps, [1, 2, 3, 4], "a preview (x₀ decoded at 64x64 by the folder's TAESD) at every step")
        let files = events.compactMap { event -> URL? in if case .runFinished(_, let url, _, _, _, _) = event { return url }; return nil }
        XCTAssertEqual(files.map(\.lastPathComponent), ["photoverse-0001.png", "photoverse-0002.png"], "never overwritten")
        XCTAssertEqual(try GenerationRequest.load(from: files[1]).seed, 2)
        XCTAssertNotNil(firstPreview, "a preview arrived (how fast is scripts/bench-ui.sh's to measure, not a test's)")
        engine.waitUntilIdle()
        XCTAssertFalse(engine.isBusy)
    }

    func testCancelStopsBetweenStepsAndDropsTheQueue() throws {
        let out = Fixtures.temporaryDirectory("engine")
        defer { try? FileManager.default.removeItem(at: out) }
        let mailbox = Mailbox<EngineEvent>()
        let engine = startedEngine(mailbox)
        let settings = tinySettings(steps: 150, size: 64)
        engine.enqueue((1...3).map { GenerationJob(id: $0, settings: settings, seed: UInt64($0), outputFolder: out) })
        _ = waitFor(mailbox) { $0.contains { if case .runProgress = $0 { return true }; return false } }
        XCTAssertEqual(engine.cancelAll(), 2, "two waiting runs dropped")
        let events = waitFor(mailbox) { $0.contains { if case .runCancelled = $0 { return true }; return false } }
        XCTAssertTrue(events.contains { if case .runCancelled(1) = $0 { return true }; return false })
        engine.waitUntilIdle()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), [], "nothing written")
    }

    func testShutdownStopsTheRunWaitsForItAndRefusesNewJobs() throws {
        let out = Fixtures.temporaryDirectory("engine")
        defer { try? FileManager.default.removeItem(at: out) }
        let mailbox = Mailbox<EngineEvent>()
        let engine = startedEngine(mailbox)
        let settings = tinySettings(steps: 150, size: 256)
        engine.enqueue((1...2).map { GenerationJob(id: $0, settings: settings, seed: UInt64($0), outputFolder: out) })
        _ = waitFor(mailbox) { $0.contains { if case .runProgress = $0 { return true }; return false } }
        XCTAssertTrue(engine.shutdown(within: 10), "stopped within the limit")
        XCTAssertFalse(engine.isBusy, "idle once shutdown returns")
        engine.enqueue([GenerationJob(id: 3, settings: settings, seed: 3, outputFolder: out)])
        XCTAssertFalse(engine.isBusy, "a closed engine takes no new job")
        let events = mailbox.takeAll()
        XCTAssertTrue(events.contains { if case .runCancelled(1) = $0 { return true }; return false }, "\(events)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), [], "nothing written")
    }

    func testAMissingModelIsOneLine() {
        let mailbox = Mailbox<EngineEvent>()
        let engine = GenerationEngine(modelFolder: URL(fileURLWithPath: "/nonexistent/model"), faces: shippedFaces, mailbox: mailbox)
        engine.start()
        engine.waitUntilIdle()
        guard case .modelFailed(let message)? = mailbox.takeAll().first else { return XCTFail("no failure") }
        XCTAssertTrue(message.hasPrefix("cannot load the model: "), message)
        XCTAssertFalse(message.contains("\n"), message)
    }
}
