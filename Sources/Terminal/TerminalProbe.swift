import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Asks the terminal what it can do, before ncurses takes over: the DA1 query `ESC [ c`
/// (attribute 4 = sixel) and the cell size in pixels (`ESC [ 16 t`, or the kernel's idea
/// of it). Every terminal answers DA1, so its reply also ends the wait; a terminal that
/// says nothing costs at most `timeout`.
public struct TerminalProbe: Sendable {
    public var attributes: [Int] = []
    public var cellSize: PixelSize?
    public var supportsSixel: Bool { attributes.contains(4) }

    public init(attributes: [Int] = [], cellSize: PixelSize? = nil) {
        self.attributes = attributes
        self.cellSize = cellSize
    }

    /// Queries the controlling terminal; nil when there is none or it did not answer in time.
    public static func run(timeout: Double = 0.3) -> TerminalProbe? {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(fd, TCSANOW, &raw)
        defer { tcsetattr(fd, TCSANOW, &saved) }

        let query = Array("\u{1B}[16t\u{1B}[c".utf8)
        _ = query.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var reply: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 256)
        while TerminalReplyParser.deviceAttributes(in: reply) == nil {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return nil }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(remaining * 1000) + 1) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return nil }
            reply += buffer[0..<count]
        }
        var probe = TerminalProbe(attributes: TerminalReplyParser.deviceAttributes(in: reply) ?? [])
        probe.cellSize = kernelCellSize(fd) ?? TerminalReplyParser.cellSize(in: reply)
        return probe
    }

    /// The cell size from TIOCGWINSZ, when the terminal tells the kernel its pixel size.
    static func kernelCellSize(_ fd: Int32) -> PixelSize? {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0,
              size.ws_xpixel > 0, size.ws_ypixel > 0 else { return nil }
        return PixelSize(width: Int(size.ws_xpixel) / Int(size.ws_col), height: Int(size.ws_ypixel) / Int(size.ws_row))
    }
}
