import Foundation
import Formats
import Pipeline
import TestSupport
import XCTest

/// Every way out while the engine works ends the same safe way: a clean exit status, the
/// terminal given back, no partial file. Each exit path is aimed at three moments of a run:
/// the first step, a random point during the run, and the save of the result.
/// PHOTOVERSE_STRESS_REPEATS sets the repetitions per path and moment (default 1, so the
/// suite stays under a minute); `scripts/stress-exit.sh` runs the full count.
final class ExitStressTests: XCTestCase {
    enum Moment: String, CaseIterable {
        case firstStep = "first step", duringRun = "during the run", save = "the save"
    }

    static var repeats: Int {
        Int(ProcessInfo.processInfo.environment["PHOTOVERSE_STRESS_REPEATS"] ?? "") ?? 1
    }

    /// A run long enough to aim at (30 steps at 256x256 on the tiny model: about a second),
    /// with an image large enough that its save takes a few milliseconds.
    static func longRun(in home: URL) throws -> URL {
        var record = GenerationRequest(prompt: "a red fox in the snow")
        record.seed = 7
        record.steps = 30
        record.width = 256
        record.height = 256
        record.guidance = 7.5
        return try record.save(RGBImage(width: 8, height: 8, color: .white), inFolder: home.appendingPathComponent("old"))
    }

    func testQuitDuringRunsIsClean() throws { try stressUI(signal: nil) }
    func testSIGINTDuringRunsIsClean() throws { try stressUI(signal: SIGINT) }
    func testSIGTERMDuringRunsIsClean() throws { try stressUI(signal: SIGTERM) }
    func testSIGHUPDuringRunsIsClean() throws { try stressUI(signal: SIGHUP) }
    func testGenerateSIGINTIsClean() throws { try stressGenerate(signal: SIGINT) }
    func testGenerateSIGTERMIsClean() throws { try stressGenerate(signal: SIGTERM) }

    /// `signal` nil: the user quits (q, then y when a run is going).
    func stressUI(signal: Int32?) throws {
        var outcomes: [String: Int] = [:]
        for iteration in 0..<Self.repeats {
            for moment in Moment.allCases {
                let home = Fixtures.temporaryDirectory("photoverse-stress")
                let trace = home.appendingPathComponent("trace.txt")
                let load = try Self.longRun(in: home)
                let session = try TmuxSession(arguments: ["--model", UIFixtures.plainModel.path, "--images", "blocks",
                                                          "--load", load.path],
                                              environment: ["PHOTOVERSE_TRACE": trace.path], home: home)
                defer { session.close() }
                try session.waitFor("a red fox in the snow")
                // A `g` typed while the model still loads starts nothing (the first UI of a cold
                // test process took long enough for that once in CI).
                try session.waitFor("ready")
                let pid = try XCTUnwrap(try session.programPID(), "photoverse is running")
                try session.send("g")
                do {
                    try Self.aim(at: moment, trace: trace, seed: iteration)
                } catch {
                    // What the app had done and what it showed: the evidence for a run that never began.
                    let marks = (try? String(contentsOf: trace, encoding: .utf8)) ?? "(no trace file)"
                    print("trace:\n\(marks)\nscreen:\n\((try? session.screen()) ?? "(no screen)")")
                    throw error
                }
                if let signal {
                    kill(pid, signal)
                } else {
                    // Whether the confirmation came up or the run had ended, the app quits with 0
                    // (a y typed after it ended goes to the pane's idle shell).
                    try session.send("q", "y")
                }
                let context = "\(signal.map { "signal \($0)" } ?? "quit") at \(moment.rawValue), iteration \(iteration)"
                try session.assertExitedRestored(status: signal.map { 128 + Int($0) } ?? 0, timeout: 60)
                try Self.assertNoPartialFile(in: session.outputFolder, context)
                let saved = UIFixtures.results(in: session.outputFolder).count
                outcomes["\(moment.rawValue): \(saved) saved", default: 0] += 1
            }
        }
        print("exit stress \(signal.map { "signal \($0)" } ?? "quit"): \(outcomes.sorted { $0.key < $1.key })")
    }

    func stressGenerate(signal: Int32) throws {
        var outcomes: [String: Int] = [:]
        for iteration in 0..<Self.repeats {
            for moment in Moment.allCases {
                let folder = Fixtures.temporaryDirectory("photoverse-stress")
                defer { try? FileManager.default.removeItem(at: folder) }
                let stderrFile = folder.appendingPathComponent("stderr.txt")
                let process = Process()
                process.executableURL = PhotoverseUIBinary.url
                process.currentDirectoryURL = folder
                process.arguments = ["generate", "--model", UIFixtures.plainModel.path, "--prompt", "a red fox",
                                     "--steps", "30", "--width", "256", "--height", "256"]
                _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
                process.standardError = try FileHandle(forWritingTo: stderrFile)
                process.standardOutput = FileHandle.nullDevice
                try process.run()
                // The progress lines on stderr are what there is to aim at from outside.
                switch moment {
                case .firstStep: try Self.waitForText("step 1/", in: stderrFile)
                case .duringRun:
                    try Self.waitForText("step 1/", in: stderrFile)
                    Thread.sleep(forTimeInterval: Double(iteration * 37 % 100) / 100 * 1.2)
                case .save:
                    // The output folder is made just before the PNG is written.
                    try Self.waitForText("step 30/30", in: stderrFile)
                    try Self.waitForFile(folder.appendingPathComponent("out"))
                }
                kill(process.processIdentifier, signal)
                process.waitUntilExit()
                let context = "generate, signal \(signal) at \(moment.rawValue), iteration \(iteration)"
                let message = (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
                let lastLine = message.split(separator: "\n").last.map(String.init) ?? ""
                // Dies of the signal (the shell shows 128 + n): never a crash, never status 0.
                XCTAssertEqual(process.terminationReason, .uncaughtSignal, context)
                XCTAssertEqual(process.terminationStatus, signal, "\(context): \(message)")
                let out = folder.appendingPathComponent("out")
                try Self.assertNoPartialFile(in: out, context)
                let saved = UIFixtures.results(in: out).count
                if saved == 0 {
                    XCTAssertTrue(lastLine.hasPrefix("photoverse generate: stopped at step ") && lastLine.hasSuffix("nothing written"),
                                  "\(context): \(lastLine)")
                } else {
                    XCTAssertTrue(lastLine.contains("after the image was saved"), "\(context): \(lastLine)")
                }
                outcomes["\(moment.rawValue): \(saved) saved", default: 0] += 1
            }
        }
        print("exit stress generate, signal \(signal): \(outcomes.sorted { $0.key < $1.key })")
    }

    /// Returns at the moment to act: when the run starts, somewhere during it, or when its save starts.
    static func aim(at moment: Moment, trace: URL, seed: Int) throws {
        switch moment {
        case .firstStep: try waitForText("run-start", in: trace)
        case .duringRun:
            try waitForText("run-start", in: trace)
            Thread.sleep(forTimeInterval: Double(seed * 37 % 100) / 100 * 1.2)
        case .save: try waitForText("save-start", in: trace)
        }
    }

    /// Polls `file` every millisecond until it contains `text` (60 s at most: a deadline for a
    /// broken run, never a timing; a run on a machine busy with builds can take 10 s).
    static func waitForText(_ text: String, in file: URL) throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: file.path), String(decoding: data, as: UTF8.self).contains(text) {
                return
            }
            usleep(1000)
        }
        XCTFail("'\(text)' never appeared in \(file.lastPathComponent)")
        throw TmuxSession.WaitTimedOut()
    }

    static func waitForFile(_ file: URL) throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: file.path) { return }
            usleep(200)
        }
        XCTFail("\(file.lastPathComponent) never appeared")
        throw TmuxSession.WaitTimedOut()
    }

    /// No temporary file of the atomic writer is left, and every PNG there is whole.
    static func assertNoPartialFile(in folder: URL, _ context: String) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        XCTAssertEqual(names.filter { $0.contains(".tmp-") }, [], "\(context): a partial file was left")
        for png in names.filter({ $0.hasSuffix(".png") }) {
            let url = folder.appendingPathComponent(png)
            XCTAssertNoThrow(try ImageFile.load(url), "\(context): \(png) does not decode")
            XCTAssertNoThrow(try GenerationRequest.load(from: url), "\(context): \(png) has no record")
        }
    }
}
