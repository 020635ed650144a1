import ArgumentParser
import Foundation
import Models

/// Model folder summary.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarise a model folder: configs, parameter counts, dtypes, key problems.")

    @Argument(help: "A model folder (diffusers layout).")
    var model: String

    func run() throws {
        let folder: ModelFolder
        do {
            folder = try ModelFolder(URL(fileURLWithPath: model))
        } catch {
            FileHandle.standardError.write(Data("photoverse inspect: \(error)\n".utf8))
            throw ExitCode(1)
        }
        var failed = false
        for component in folder.inspect() {
            let dtypes = component.dtypes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            print("\(component.name): \(component.config)")
            print("  parameters \(component.parameters.formatted()), tensors: \(dtypes.isEmpty ? "-" : dtypes)")
            for problem in component.problems { print("  problem: \(problem)") }
            failed = failed || !component.problems.isEmpty
        }
        if failed { throw ExitCode(1) }
    }
}
