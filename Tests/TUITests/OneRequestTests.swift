import Foundation
import Formats
import Pipeline
import TensorCore
import TestSupport
@testable import TUI
import XCTest

/// The CLI and the TUI are editors of one request: the same settings give the same latents
/// and the same image through either (the paper's --strength start from a reference included),
/// and a result's PNG reruns bit for bit with `generate --load`.
final class OneRequestTests: XCTestCase {
    var home: URL!

    override func setUpWithError() throws {
        home = Fixtures.temporaryDirectory("one-request")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: home)
    }

    func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = PhotoverseUIBinary.url
        process.arguments = arguments
        process.currentDirectoryURL = home
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stderr)
    }

    func testCLIAndTUIGiveTheSameLatentsAndImageIncludingStrengthFromAReference() throws {
        let model = try UIFixtures.identityModel(in: home)
        let reference = try UIFixtures.facePhotos(in: home)
        // The TUI's settings, as a person sets them in the panels.
        var settings = GenerationSettings()
        settings.request.prompt = "a portrait of S* in a garden"
        settings.request.negativePrompt = "blurry"
        settings.request.steps = 6
        settings.request.guidance = 6
        settings.request.sampler = .eulerAncestral
        settings.request.width = 64
        settings.request.height = 64
        settings.request.strength = 0.5
        settings.request.identity.imageWeight = 0.7
        settings.request.identity.textWeight = 1.2
        settings.request.identity.identityGuidance = 3
        settings.referencePath = reference.path
        settings.crop = .auto
        let job = GenerationJob(id: 1, settings: settings, seed: 1234, outputFolder: home.appendingPathComponent("tui"))
        let engine = GenerationEngine(modelFolder: model, faces: shippedFaces, mailbox: Mailbox<EngineEvent>())
        let request = engine.request(for: job, modelHasIdentity: true)
        // The TUI's engine entry, in process.
        let pipeline = try GenerationPipeline(modelFolder: model, faces: shippedFaces)
        let tui = try pipeline.generate(request)

        // The same settings as command-line options.
        let latents = home.appendingPathComponent("cli-latents.safetensors")
        let out = home.appendingPathComponent("cli.png")
        let cli = try run(["generate", "--model", model.path, "--prompt", "a portrait of S* in a garden",
                           "--negative-prompt", "blurry", "--steps", "6", "--guidance", "6", "--scheduler", "euler-a",
                           "--seed", "1234", "--width", "64", "--height", "64", "--strength", "0.5",
                           "--image-weight", "0.7", "--text-weight", "1.2", "--identity-guidance", "3",
                           "--reference", reference.path, "--crop", "auto",
                           "--latents-out", latents.path, "--out", out.path])
        XCTAssertEqual(cli.status, 0, cli.stderr)
        XCTAssertTrue(cli.stderr.contains("3/3"), "strength 0.5 of 6 steps: \(cli.stderr)")
        let cliLatents = try SafetensorsFile(url: latents).tensor("latents")
        XCTAssertEqual(cliLatents.scalars, tui.latents.scalars, "bit for bit")

        // The real engine on its queue writes the same picture.
        let mailbox = Mailbox<EngineEvent>()
        let running = GenerationEngine(modelFolder: model, faces: shippedFaces, mailbox: mailbox)
        running.start()
        running.enqueue([job])
        running.waitUntilIdle()
        let finished = mailbox.takeAll().compactMap { event -> URL? in
            if case .runFinished(_, let url, _, _, _, _) = event { return url }
            return nil
        }
        let file = try XCTUnwrap(finished.first, "the engine finished the run")
        XCTAssertEqual(try PNGCodec.read(file), try PNGCodec.read(out), "the same pixels")
        XCTAssertEqual(try GenerationRequest.load(from: file), try GenerationRequest.load(from: out).withModel(model.path),
                       "the same request recorded")
    }

    func testAResultRerunsBitForBitWithLoad() throws {
        let model = UIFixtures.plainModel
        let first = home.appendingPathComponent("first.png"), firstLatents = home.appendingPathComponent("first.safetensors")
        let made = try run(["generate", "--model", model.path, "--prompt", "a red fox", "--steps", "5", "--seed", "77",
                            "--scheduler", "dpmpp-2m-karras", "--guidance", "5", "--latents-out", firstLatents.path, "--out", first.path])
        XCTAssertEqual(made.status, 0, made.stderr)
        let again = home.appendingPathComponent("again.png"), againLatents = home.appendingPathComponent("again.safetensors")
        let rerun = try run(["generate", "--load", first.path, "--latents-out", againLatents.path, "--out", again.path])
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertEqual(try SafetensorsFile(url: againLatents).tensor("latents").scalars,
                       try SafetensorsFile(url: firstLatents).tensor("latents").scalars)
        XCTAssertEqual(try PNGCodec.read(again), try PNGCodec.read(first))
        XCTAssertEqual(try GenerationRequest.load(from: again), try GenerationRequest.load(from: first))
        // Options given with --load change the loaded request.
        let changed = home.appendingPathComponent("changed.png")
        let edit = try run(["generate", "--load", first.path, "--seed", "78", "--out", changed.path])
        XCTAssertEqual(edit.status, 0, edit.stderr)
        XCTAssertEqual(try GenerationRequest.load(from: changed).seed, 78)
        XCTAssertNotEqual(try PNGCodec.read(changed), try PNGCodec.read(first))
    }

    func testRecordsOfTheFirstVersionsStillLoad() throws {
        let flat = #"{"prompt":"S* smiling","steps":9,"sampler":"euler_a","seed":5,"width":64,"height":64,"model":"Models/mini","#
            + #""references":["/p/me.png"],"crop":"10,20,30,40","imageWeight":0.5,"identityGuidance":3}"#
        let png = home.appendingPathComponent("old.png")
        try PNGCodec.write(RGBImage(width: 2, height: 2, color: .white), text: [GenerationRequest.jsonKey: flat], to: png)
        let request = try GenerationRequest.load(from: png)
        XCTAssertEqual(request.sampler, .eulerAncestral)
        XCTAssertEqual(request.identity.references, [ReferenceSource(path: "/p/me.png", crop: .box(x: 10, y: 20, width: 30, height: 40))])
        XCTAssertEqual(request.identity.imageWeight, 0.5)
        XCTAssertEqual(request.identity.identityGuidance, 3)
        XCTAssertEqual(request.model, "Models/mini")
    }
}

extension GenerationRequest {
    func withModel(_ model: String) -> GenerationRequest {
        var copy = self
        copy.model = model
        return copy
    }
}
