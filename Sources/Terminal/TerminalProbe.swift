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
    /// The kitty graphics query was answered OK (through tmux's passthrough inside tmux).
    public var kittyGraphics = false
    /// XTVERSION's name ("kitty(0.39)", "WezTerm 2024...", "iTerm2 3.5", "tmux 3.3a"), when answered.
    public var terminalName: String?
    public var supportsSixel: Bool { attributes.contains(4) }

    public init(attributes: [Int] = [], cellSize: PixelSize? = nil, kittyGraphics: Bool = false, terminalName: String? = nil) {
        self.attributes = attributes
        self.cellSize = cellSize
        self.kittyGraphics = kittyGraphics
        self.terminalName = terminalName
    }

    /// The best image mode this terminal shows: kitty graphics, then iTerm2 inline images (by
    /// name: XTVERSION, or iTerm2's and WezTerm's environment, which SSH passes as LC_TERMINAL),
    /// then sixel, else half-blocks.
    public func bestImageMode(environment: [String: String]) -> ImageMode {
        if kittyGraphics { return .kitty }
        let names = [terminalName, environment["TERM_PROGRAM"], environment["LC_TERMINAL"]].compactMap { $0?.lowercased() }
        if names.contains(where: { $0.hasPrefix("iterm") || $0.hasPrefix("wezterm") }) { return .iterm }
        if supportsSixel { return .sixel }
        return .blocks
    }

    /// Queries the controlling terminal; nil when there is none or it did not answer in time.
    /// Every terminal answers DA1, so the limit is only paid by one that is silent; it is generous
    /// because a terminal still starting up (kitty with software OpenGL) answers late, and a late
    /// answer would otherwise arrive as keys. Whatever is left unread is discarded.
    public static func run(timeout: Double = 1.0, insideTmux: Bool = false) -> TerminalProbe? {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(fd, TCSANOW, &raw)
        defer {
            tcflush(fd, TCIFLUSH)
            tcsetattr(fd, TCSANOW, &saved)
        }

        // kitty's query first (through tmux's passthrough inside tmux), XTVERSION, the cell size,
        // and DA1 last: every terminal answers DA1, so its reply ends the wait for the others.
        let kitty = insideTmux ? TmuxPassthrough.wrap(KittyGraphics.query) : KittyGraphics.query
        let query = Array((kitty + "\u{1B}[>0q\u{1B}[16t\u{1B}[c").utf8)
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
        var probe = TerminalProbe(attributes: TerminalReplyParser.deviceAttributes(in: reply) ?? [],
                                  kittyGraphics: TerminalReplyParser.kittyGraphicsOK(in: reply),
                                  terminalName: TerminalReplyParser.terminalVersion(in: reply))
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
