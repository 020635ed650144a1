import ArgumentParser
import Foundation
import Formats
import Pipeline

/// `photoverse sweep`: the same request (same seed) over a grid of one or two knobs, each cell
/// saved as a PNG with its request, and a labelled contact sheet to pick the trade-off from.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run one request over a grid of knob values and write a labelled contact sheet.",
        discussion: "Knobs: \(SweepAxis.Knob.allCases.map(\.rawValue).joined(separator: ", ")). "
            + "Example: --x text-weight=0.5,1,1.5 --y image-weight=0,0.5,1,1.5")

    @OptionGroup var request: RequestOptions
    @Option(help: "The knob across the columns and its values: KNOB=V1,V2,...") var x: String
    @Option(help: "The knob down the rows and its values (optional).") var y: String?
    @Option(help: "Folder for the cells and sheet.png (must not exist; default: a new out/sweep-NNNN).") var outDir: String?
    @OptionGroup var faceScorer: FaceScorerOption

    func run() throws {
        do {
            try sweep()
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("photoverse sweep: \("\(error)".terminalSafe)\n".utf8))
            throw ExitCode(1)
        }
    }

    private func sweep() throws {
        var base = try request.edited()
        let plan = SweepPlan(base: base, x: try SweepAxis(parsing: x), y: try y.map { try SweepAxis(parsing: $0) })
        try plan.validate()
        try base.validateFiles()
        let folder = try Self.makeFolder(outDir)
        let pipeline = try GenerateCommand.loadPipeline(for: base)
        try TinyAutoencoderLocation.attach(to: pipeline, for: &base, wantsPreviews: false, named: request.taesd)
        let scoring = try faceScorer.scoring(for: base)
        if request.load == nil {
            let native = pipeline.unet.config.sampleSize * pipeline.vae.config.downscale
            base.width = request.width ?? native
            base.height = request.height ?? native
        }
        let sized = SweepPlan(base: base, x: plan.x, y: plan.y)
        InterruptWatch.install()
        let stop = StopFlag(poll: { InterruptWatch.received != 0 })
        var images: [[RGBImage]] = []
        var captions: [[String]] = []
        for row in 0..<sized.rows {
            var line: [RGBImage] = []
            var lineCaptions: [String] = []
            for column in 0..<sized.columns {
                let cell = sized.request(row: row, column: column)
                let name = "x\(column + 1)-y\(row + 1).png"
                do {
                    let result = try pipeline.generate(cell, stop: stop)
                    let image = RGBImage(tensor: result.image, range: .zeroToOne)
                    let score = scoring?.score(image, for: cell)
                    try cell.save(image, to: folder.appendingPathComponent(name), inFolder: folder, score: score)
                    line.append(image)
                    lineCaptions.append(Self.caption(score, scoring: scoring))
                    let labels = [sized.x.label(column)] + (sized.y.map { [$0.label(row)] } ?? []) + (scoring == nil ? [] : [score?.description ?? "no face match"])
                    FileHandle.standardError.write(Data("\(name): \(labels.joined(separator: ", "))\n".utf8))
                } catch let stopped as GenerationCancelled {
                    let signal = InterruptWatch.received
                    FileHandle.standardError.write(Data("photoverse sweep: \(name) \(stopped) (\(InterruptWatch.signalName(signal))); the cells before it are in \(folder.path)\n".utf8))
                    InterruptWatch.die(of: signal)
                }
            }
            images.append(line)
            captions.append(lineCaptions)
        }
        // Each cell's identity score under it; with no scorer for this model, no captions
        // rather than made-up numbers.
        let sheet = ContactSheet.render(cells: images, columnLabels: (0..<sized.columns).map(sized.x.label),
                                        rowLabels: sized.y.map { y in (0..<sized.rows).map(y.label) } ?? [""],
                                        captions: scoring == nil ? [] : captions,
                                        title: "seed \(base.seed)" + (scoring.map { ", face match by \($0.scorer.name)" } ?? ""))
        let sheetFile = folder.appendingPathComponent("sheet.png")
        try PNGCodec.write(sheet, to: sheetFile)
        print(sheetFile.path)
    }

    /// A cell's caption: "match 0.82", or "no face" when the scorer found none.
    static func caption(_ score: IdentityScore?, scoring: IdentityScoring?) -> String {
        guard scoring != nil else { return "" }
        return score.map { "match \($0.shortText)" } ?? "no face"
    }

    /// The folder asked for (which must not exist yet), or the next free out/sweep-NNNN.
    static func makeFolder(_ asked: String?) throws -> URL {
        let manager = FileManager.default
        if let asked {
            let url = URL(fileURLWithPath: asked, isDirectory: true)
            guard !manager.fileExists(atPath: url.path) else {
                throw UserFacingError("\(asked): already exists; choose another --out-dir (results are never overwritten)")
            }
            try manager.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }
        let parent = URL(fileURLWithPath: "out", isDirectory: true)
        try manager.createDirectory(at: parent, withIntermediateDirectories: true)
        for number in 1...9999 {
            let url = parent.appendingPathComponent(String(format: "sweep-%04d", number), isDirectory: true)
            // mkdir fails if it exists: two sweeps at once never share a folder.
            if mkdir(url.path, 0o755) == 0 { return url }
        }
        throw UserFacingError("out/: no free sweep-NNNN folder")
    }
}
