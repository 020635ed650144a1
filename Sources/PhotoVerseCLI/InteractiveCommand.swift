import ArgumentParser

/// The ncurses UI (the default when `photoverse` runs with no arguments).
struct InteractiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Open the interactive terminal UI (the default with no arguments).")

    func run() throws {
        throw notYetImplemented("the interactive terminal UI", issue: "issue [5 of 5]")
    }
}
