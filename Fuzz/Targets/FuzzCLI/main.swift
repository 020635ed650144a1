import ArgumentParser
import Foundation
import FuzzSupport

/// The real `photoverse` argument parser (the CLI's command files are linked into this target
/// by run.sh; see Linked/): the input is split at NUL bytes into arguments and parsed, with the
/// commands' own `validate()`, exactly as the executable does before `run()`, which is never
/// called here. Help and version requests end parsing as in the executable.
func fuzzCLI(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzCheck.data(start, count)
    let arguments = input.split(separator: 0, omittingEmptySubsequences: false).prefix(64).map {
        String(decoding: $0, as: UTF8.self)
    }
    do {
        let command = try PhotoVerse.parseAsRoot(arguments)
        _ = String(describing: type(of: command))
    } catch {
        // Errors become messages the executable prints: building them must not crash either.
        _ = PhotoVerse.fullMessage(for: error)
        _ = PhotoVerse.exitCode(for: error)
    }
    return 0
}

FuzzCheck.run(fuzzCLI)
