import CNcursesw
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The ncursesw screen: set-up and tear-down, text drawing by cell, keys with a timeout.
/// One instance per process, used from the main thread only.
public final class CursesScreen {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private let screen: OpaquePointer
    private var window: UnsafeMutablePointer<WINDOW> { stdscr }
    public private(set) var isOpen = true
    private var nextPair: Int16 = 1
    private var pairs: [Pair: Int16] = [:]
    /// How many colours ncurses can use (0 when colour is off).
    public let colors: Int

    struct Pair: Hashable { let foreground: Int; let background: Int }

    /// Opens the terminal: a UTF-8 locale, no echo, keys unbuffered, the keypad decoded,
    /// Esc delivered after 25 ms (not ncurses' default second), `getKey` waiting at most `keyTimeoutMs`.
    public init(useColor: Bool, keyTimeoutMs: Int32) throws {
        Self.selectUTF8Locale()
        guard let screen = newterm(nil, stdout, stdin) else {
            let term = ProcessInfo.processInfo.environment["TERM"] ?? "(unset)"
            throw Failure(description: "cannot open the terminal (TERM=\(term)): is it a terminal that terminfo knows?")
        }
        self.screen = screen
        set_term(screen)
        if useColor, has_colors() {
            start_color()
            use_default_colors()
            colors = Int(COLORS)
        } else {
            colors = 0
        }
        cbreak()
        noecho()
        nonl()
        keypad(stdscr, true)
        set_escdelay(25)
        curs_set(0)
        wtimeout(stdscr, keyTimeoutMs)
    }

    deinit { close() }

    /// ncursesw decodes UTF-8 only under a UTF-8 locale; fall back to C.UTF-8 when the
    /// environment names none (a bare tmux or ssh session).
    static func selectUTF8Locale() {
        setlocale(LC_ALL, "")
        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        if codeset.uppercased().replacingOccurrences(of: "-", with: "") != "UTF8" {
            setlocale(LC_CTYPE, "C.UTF-8")
        }
    }

    /// endwin: the terminal goes back to how it was (main screen, cursor, modes).
    public func close() {
        guard isOpen else { return }
        isOpen = false
        curs_set(1)
        endwin()
        delscreen(screen)
    }

    public var columns: Int { Int(getmaxx(window)) }
    public var rows: Int { Int(getmaxy(window)) }

    // MARK: colours

    /// The pair for foreground/background colour numbers (-1 = the terminal's default).
    public func pair(foreground: Int, background: Int) -> Int16 {
        guard colors > 0 else { return 0 }
        let key = Pair(foreground: foreground, background: background)
        if let existing = pairs[key] { return existing }
        guard Int(nextPair) < Int(COLOR_PAIRS), nextPair < Int16.max else { return 0 }
        let number = nextPair
        nextPair += 1
        init_extended_pair(Int32(number), Int32(foreground), Int32(background))
        pairs[key] = number
        return number
    }

    /// Forgets all pairs (a theme change defines new ones).
    public func resetPairs() {
        pairs = [:]
        nextPair = 1
    }

    // MARK: drawing

    public func erase() { werase(window) }

    public func fillBackground(_ style: TextStyle) {
        wbkgdset(window, chtype(style.attributes.rawValue) | chtype(UInt32(style.pair) << 8))
    }

    /// Draws `text` at column `x`, row `y`, cut to `maxWidth` columns; returns the columns used.
    @discardableResult
    public func put(_ text: String, x: Int, y: Int, style: TextStyle = TextStyle(), maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < rows, x >= 0, x < columns else { return 0 }
        let limit = min(maxWidth ?? Int.max, columns - x)
        let shown = DisplayWidth.truncate(text, to: limit, ellipsis: maxWidth != nil)
        guard !shown.isEmpty else { return 0 }
        wattr_set(window, attr_t(style.attributes.rawValue), style.pair, nil)
        mvwaddnstr(window, Int32(y), Int32(x), shown, -1)
        wattr_set(window, 0, 0, nil)
        return DisplayWidth.of(shown)
    }

    /// Fills `rect` with spaces in `style`.
    public func fill(_ rect: CellRect, style: TextStyle) {
        let blank = String(repeating: " ", count: max(0, rect.width))
        for row in rect.rows { put(blank, x: rect.x, y: row, style: style) }
    }

    /// A single-line frame around `rect`, with an optional title in its top edge.
    /// A box; `double` draws it with double lines (the focused panel: visible without colour).
    public func frame(_ rect: CellRect, style: TextStyle, title: String? = nil, titleStyle: TextStyle? = nil, double: Bool = false) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let inner = rect.width - 2
        let (h, v, tl, tr, bl, br) = double ? ("═", "║", "╔", "╗", "╚", "╝") : ("─", "│", "┌", "┐", "└", "┘")
        put(tl + String(repeating: h, count: inner) + tr, x: rect.x, y: rect.y, style: style)
        for row in (rect.y + 1)..<(rect.maxY - 1) {
            put(v, x: rect.x, y: row, style: style)
            put(v, x: rect.maxX - 1, y: row, style: style)
        }
        put(bl + String(repeating: h, count: inner) + br, x: rect.x, y: rect.maxY - 1, style: style)
        if let title, inner > 4 {
            put(" \(title) ", x: rect.x + 2, y: rect.y, style: titleStyle ?? style, maxWidth: inner - 2)
        }
    }

    /// Shows the text cursor at a cell (while editing text), or hides it (nil).
    public func placeCursor(x: Int, y: Int, visible: Bool) {
        if visible {
            wmove(window, Int32(y), Int32(x))
            curs_set(1)
        } else {
            curs_set(0)
        }
    }

    /// Sends the changes to the terminal (and flushes stdout).
    public func refresh() {
        wrefresh(window)
    }

    /// Makes ncurses rewrite these rows at the next refresh, whatever it believes is there.
    public func rewriteRows(_ range: Range<Int>) {
        let lower = max(0, range.lowerBound), upper = min(rows, range.upperBound)
        guard upper > lower else { return }
        wredrawln(window, Int32(lower), Int32(upper - lower))
    }

    /// Clears the physical screen and repaints everything at the next refresh.
    public func redrawEverything() {
        clearok(curscr, true)
    }

    // MARK: keys

    /// The next key, or nil when none came within the timeout. Esc followed at once by
    /// another character is Alt + that character.
    public func nextKey() -> Key? {
        var value: wint_t = 0
        let status = wget_wch(window, &value)
        if status == KEY_CODE_YES { return Self.functionKey(Int32(value)) }
        guard status == OK else { return nil }
        guard value == 27 else { return Key.fromCharacter(UInt32(value)) }
        wtimeout(window, 0)
        var next: wint_t = 0
        let following = wget_wch(window, &next)
        wtimeout(window, keyTimeout)
        if following == OK, next != 27, next >= 32, let scalar = Unicode.Scalar(UInt32(next)) {
            return .alt(Character(scalar))
        }
        if following == KEY_CODE_YES { return Self.functionKey(Int32(next)) }
        return .escape
    }

    private var keyTimeout: Int32 = 25

    public func setKeyTimeout(_ milliseconds: Int32) {
        keyTimeout = milliseconds
        wtimeout(window, milliseconds)
    }

    static func functionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_BTAB: return .backTab
        case KEY_RESIZE: return .resize
        case KEY_F0...(KEY_F0 + 63): return .function(Int(code - KEY_F0))
        default: return nil
        }
    }
}
