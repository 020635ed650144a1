import Foundation
import Formats
import Pipeline
import TestSupport
@testable import TUI
import XCTest

/// The TUI's engine draws previews through the model folder's own TAESD (taesd/), and says so
/// in one line when that folder is broken.
final class TinyAutoencoderEngineTests: XCTestCase {
    func events(model: URL, request: (inout GenerationRequest) -> Void = { _ in }, out: URL) -> [EngineEvent] {
        let mailbox = Mailbox<EngineEvent>()
        let engine = GenerationEngine(modelFolder: model, faces: shippedFaces, mailbox: mailbox)
        engine.start()
        var settings = GenerationSettings()
        settings.request.steps = 3
        settings.request.width = 64
        settings.request.height = 64
        request(&settings.request)
        engine.enqueue([GenerationJob(id: 1, settings: settings, seed: 1, outputFolder: out)])
        var events: [EngineEvent] = []
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !events.contains(where: {
            switch $0 {
            case .runFinished, .runFailed, .modelFailed: return true
            default: return false
            }
        }) {
            events += mailbox.takeAll()
            Thread.sleep(forTimeInterval: 0.005)
        }
        engine.waitUntilIdle()
        return events
    }

    /// The tiny model as a folder whose taesd/ is `taesd` (nil: none); every other part linked.
    func model(taesd: URL?, in dir: URL) throws -> URL {
        let folder = dir.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for part in ["model_index.json", "scheduler", "text_encoder", "tokenizer", "unet", "vae"] {
            try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(part),
                                                       withDestinationURL: Fixtures.url("tiny-sd/\(part)").resolvingSymlinksInPath())
        }
        if let taesd { try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("taesd"), withDestinationURL: taesd) }
        return folder
    }

    /// A request asking for TAESD previews runs only when the engine loaded the folder's TAESD.
    func testPreviewsComeThroughTheFoldersTAESD() throws {
        let dir = Fixtures.temporaryDirectory("engine-taesd")
        defer { try? FileManager.default.removeItem(at: dir) }
        let withTAESD = events(model: Fixtures.url("tiny-sd"), request: { $0.preview = .taesd }, out: dir)
        let previews = withTAESD.compactMap { event -> RGBImage? in
            if case .runProgress(1, _, 3, _, let preview) = event { return preview }
            return nil
        }
        XCTAssertEqual(previews.map(\.width), [64, 64, 64], "\(withTAESD)")
        guard case .modelLoaded(let loaded) = withTAESD.first else { return XCTFail("model first: \(withTAESD)") }
        XCTAssertTrue(loaded.hasTinyAutoencoder)
        XCTAssertTrue(withTAESD.contains { if case .runFinished = $0 { return true }; return false }, "\(withTAESD)")

        let bare = try model(taesd: nil, in: dir.appendingPathComponent("bare"))
        let without = events(model: bare, request: { $0.preview = .taesd }, out: dir)
        let failure = without.compactMap { event -> String? in if case .runFailed(1, let message) = event { return message }; return nil }
        XCTAssertEqual(failure.count, 1, "\(without)")
        XCTAssertTrue(failure.first?.hasPrefix("--preview taesd: no TAESD is loaded") ?? false, "\(failure)")
        guard case .modelLoaded(let bareModel) = without.first else { return XCTFail("model first: \(without)") }
        XCTAssertFalse(bareModel.hasTinyAutoencoder)
    }

    /// A record asking for the TAESD decoder (a CLI result reloaded) uses the folder's TAESD and
    /// names it; on a folder without one it falls back to the VAE rather than failing.
    func testTheDecoderSettingUsesTheFoldersTAESD() throws {
        let dir = Fixtures.temporaryDirectory("engine-taesd")
        defer { try? FileManager.default.removeItem(at: dir) }
        func record(_ model: URL, _ out: URL) throws -> GenerationRequest {
            let got = events(model: model, request: { $0.decoder = .taesd }, out: out)
            let files = got.compactMap { event -> URL? in if case .runFinished(_, let url, _, _, _, _) = event { return url }; return nil }
            XCTAssertEqual(files.count, 1, "\(got)")
            return try GenerationRequest.load(from: try XCTUnwrap(files.first))
        }
        let withTAESD = try record(Fixtures.url("tiny-sd"), dir.appendingPathComponent("a"))
        XCTAssertEqual(withTAESD.decoder, .taesd)
        XCTAssertEqual(withTAESD.taesd.map { URL(fileURLWithPath: $0).lastPathComponent }, "taesd")
        let bare = try model(taesd: nil, in: dir.appendingPathComponent("bare"))
        let without = try record(bare, dir.appendingPathComponent("b"))
        XCTAssertEqual(without.decoder, .full)
        XCTAssertNil(without.taesd)
    }

    func testPreviewNoneSendsNoPicture() throws {
        let dir = Fixtures.temporaryDirectory("engine-taesd")
        defer { try? FileManager.default.removeItem(at: dir) }
        let got = events(model: Fixtures.url("tiny-sd"), request: { $0.preview = .none }, out: dir)
        let steps = got.compactMap { event -> RGBImage?? in if case .runProgress(1, _, _, _, let preview) = event { return preview }; return nil }
        XCTAssertEqual(steps.count, 3)
        XCTAssertTrue(steps.allSatisfy { $0 == nil })
    }

    func testABrokenTAESDFolderIsReportedInOneLine() throws {
        let dir = Fixtures.temporaryDirectory("engine-taesd")
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = dir.appendingPathComponent("broken-taesd")
        try FileManager.default.createDirectory(at: broken, withIntermediateDirectories: true)
        try Data(#"{"_class_name": "AutoencoderTiny", "latent_channels": 0}"#.utf8).write(to: broken.appendingPathComponent("config.json"))
        let folder = try model(taesd: broken, in: dir)
        let got = events(model: folder, out: dir)
        let message = got.compactMap { event -> String? in if case .modelFailed(let text) = event { return text }; return nil }.first
        XCTAssertNotNil(message, "\(got)")
        XCTAssertTrue(message?.contains("taesd/config.json: key 'latent_channels' = 0") ?? false, message ?? "")
        XCTAssertFalse(message?.contains("\n") ?? true)
    }
}
