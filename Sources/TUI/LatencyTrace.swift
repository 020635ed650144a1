import Foundation

/// Optional timing log (PHOTOVERSE_TRACE=FILE): how long each key took to show on screen,
/// and how long from pressing `g` to the first preview; and marks of the engine's moments
/// (a run starts, a save starts), which the exit stress test aims its signals at.
final class LatencyTrace: @unchecked Sendable {
    private let handle: FileHandle?

    init(environment: [String: String]) {
        guard let path = environment["PHOTOVERSE_TRACE"], !path.isEmpty else {
            handle = nil
            return
        }
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        handle = FileHandle(forWritingAtPath: path)
    }

    var isOn: Bool { handle != nil }

    /// A moment, without a duration (one write: lines from two threads do not interleave).
    func mark(_ event: String) {
        handle?.write(Data("\(event)\n".utf8))
    }

    func record(_ event: String, since start: Date) {
        guard let handle else { return }
        let milliseconds = Date().timeIntervalSince(start) * 1000
        handle.write(Data(String(format: "%@ %.1f\n", event, milliseconds).utf8))
    }
}
