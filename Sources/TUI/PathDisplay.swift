import Foundation
import Terminal

/// Paths as the UI shows them: the home folder as `~`, and cut from the left when too long
/// ("…/photos/me.jpg"), so the file name stays readable.
enum PathDisplay {
    static var home: String { ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory() }

    static func abbreviated(_ path: String) -> String {
        let home = self.home
        guard !home.isEmpty, home != "/", path.hasPrefix(home + "/") else { return path }
        return "~" + path.dropFirst(home.count)
    }

    static func shortened(_ path: String, to width: Int) -> String {
        let display = abbreviated(path)
        guard DisplayWidth.of(display) > width, width > 1 else { return display }
        return "…" + String(display.suffix(width - 1))
    }
}
