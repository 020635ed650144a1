import ArgumentParser

/// `photoverse`: the TUI when run bare, or one of the headless subcommands.
struct PhotoVerse: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "photoverse",
        abstract: "Put a person into any scene from one photo of their face.",
        discussion: """
            Run with no arguments for the interactive terminal UI. Scripts use \
            `photoverse generate`.
            """,
        version: version,
        subcommands: [InteractiveCommand.self, GenerateCommand.self, SweepCommand.self, FaceMatchCommand.self, InspectCommand.self,
                      BenchCommand.self, FaceEmbeddingCommand.self],
        defaultSubcommand: InteractiveCommand.self)
}
