import ArgumentParser

/// Model folder summary.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarise a model folder: configs, parameter counts, dtypes, key problems.")

    @Argument(help: "A model folder (diffusers layout) or a single-file checkpoint.")
    var model: String

    func run() throws {
        throw notYetImplemented("photoverse inspect", issue: "issue [2 of 5]")
    }
}
