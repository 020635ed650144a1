import Foundation

/// Opens a result in the desktop's image viewer (xdg-open) when there is a desktop;
/// otherwise the path is what the user gets, to copy.
enum FileOpener {
    static func open(_ url: URL, environment: [String: String]) -> String {
        let hasDesktop = !(environment["DISPLAY"] ?? "").isEmpty || !(environment["WAYLAND_DISPLAY"] ?? "").isEmpty
        let paths = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard hasDesktop, let opener = paths.map({ "\($0)/xdg-open" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return "file: \(PathDisplay.abbreviated(url.path))"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: opener)
        process.arguments = [url.path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            return "opened \(PathDisplay.abbreviated(url.path))"
        } catch {
            return "file: \(PathDisplay.abbreviated(url.path)) (xdg-open failed)"
        }
    }
}
