import ArgumentParser
import Foundation

/// One-line user-facing failure: printed without a stack or prefix noise, exit status 1.
struct UserFacingError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
