import ArgumentParser

struct PhotoVerse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "photoverse",
        abstract: "Put a person into any scene from one photo of their face.",
        version: "0.1.0",
        subcommands: [])
}
