import Foundation

/// Optional timing log (PHOTOVERSE_TRACE=FILE): how long each key took to show on screen,
/// and how long from pressing `g` to the first preview. The end-to-end tests read it.
final class LatencyTrace {
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

    func record(_ event: String, since start: Date) {
        guard let handle else { return }
        let milliseconds = Date().timeIntervalSince(start) * 1000
        handle.write(Data(String(format: "%@ %.1f\n", event, milliseconds).utf8))
    }
}
