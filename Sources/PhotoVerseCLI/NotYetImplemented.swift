import ArgumentParser
import Foundation

/// Says plainly that a planned feature is not built yet, and exits with status 2.
func notYetImplemented(_ feature: String, issue: String) -> ExitCode {
    FileHandle.standardError.write(Data("photoverse: \(feature) is not implemented yet (planned in \(issue)).\n".utf8))
    return ExitCode(2)
}

/// One-line user-facing failure: printed without a stack or prefix noise, exit status 1.
struct UserFacingError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
