import ArgumentParser

/// Headless generation for scripts and tests.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate an image headless (for scripts).")

    func run() throws {
        throw notYetImplemented("photoverse generate", issue: "issue [2 of 5]")
    }
}
