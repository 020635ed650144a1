import ArgumentParser
import Formats
import Foundation
import TensorCore

AllocatorPolicy.apply()

// Parsing errors are one line (swift-argument-parser prints the usage too, several lines);
// help and version print in full; a command's own errors are printed by the command.
do {
    var command = try PhotoVerse.parseAsRoot()
    try command.run()
} catch {
    let code = PhotoVerse.exitCode(for: error)
    if code == .success || error is ExitCode {
        PhotoVerse.exit(withError: error)
    }
    let message = PhotoVerse.message(for: error)
        .split(separator: "\n").first.map(String.init) ?? "\(error)"
    FileHandle.standardError.write(Data("photoverse: \(message.terminalSafe) (see photoverse --help)\n".utf8))
    exit(code.rawValue)
}
