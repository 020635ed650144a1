import ArgumentParser
import Foundation
import Pipeline
import Terminal
import TUI

/// The ncurses UI (the default when `photoverse` runs with no arguments).
struct InteractiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Open the interactive terminal UI (the default with no arguments).")

    @Option(help: "Model folder (diffusers layout). Default: $PHOTOVERSE_MODEL, else Models/mini of this checkout.")
    var model: String?
    @Option(help: "Images: auto (probes the terminal: kitty graphics, iTerm2 inline images, sixel, else half-blocks), kitty, iterm, sixel, blocks or none. Default: $PHOTOVERSE_IMAGES, else auto.")
    var images: String?
    @Option(help: "Colour theme: dark, light, high-contrast (themes/), or a .theme file. Default: the last one used.")
    var theme: String?
    @Option(help: "Start from the parameters embedded in a PhotoVerse PNG.")
    var load: String?
    @Option(help: "Folder for the results (remembered). Default: ~/Pictures/PhotoVerse.")
    var output: String?
    @OptionGroup var faceScorer: FaceScorerOption

    func run() throws {
        let status: Int32
        do {
            let environment = ProcessInfo.processInfo.environment
            let modelFolder = try ModelLocator.resolve(flag: model, embedded: Shipped.resources.embeddedModel,
                                                       environment: environment)
            let options = AppOptions(
                modelFolder: modelFolder,
                images: try ImageModeSetting.resolve(flag: images, environment: environment),
                resources: Shipped.resources,
                theme: theme, loadFile: load.map { URL(fileURLWithPath: $0) },
                outputFolder: output.map { URL(fileURLWithPath: $0) }, environment: environment,
                faceScorer: try faceScorer.scorer(modelFolder: modelFolder))
            status = try InteractiveApp.run(options)
        } catch {
            FileHandle.standardError.write(Data("photoverse: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if status != 0 { throw ExitCode(status) }
    }
}
