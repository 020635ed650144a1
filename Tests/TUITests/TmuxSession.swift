import Foundation
import TestSupport
import XCTest

/// Drives the real `photoverse ui` in a real terminal: a tmux server on a private socket,
/// a fixed window size, HOME and XDG_CONFIG_HOME in a temporary folder. Keys go in with
/// send-keys, the screen comes back with capture-pane; waits poll with a deadline.
/// When the program exits, the pane's shell prints `EXITED <status>` and whether the
/// terminal is back in cooked mode (`TTY COOKED`), then stays open for inspection.
final class TmuxSession {
    static let tmuxPath: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    let socket = "photoverse-test-\(UUID().uuidString.prefix(8))"
    let home: URL
    let outputFolder: URL
    private(set) var closed = false

    /// Starts `photoverse ui ARGUMENTS` in a `columns` x `rows` window.
    init(columns: Int = 100, rows: Int = 32, subcommand: [String] = ["ui"], arguments: [String],
         environment: [String: String] = [:], home: URL? = nil) throws {
        guard Self.tmuxPath != nil else { throw XCTSkip("tmux is not installed: the end-to-end UI tests need it (apt-get install tmux)") }
        self.home = home ?? Fixtures.temporaryDirectory("photoverse-tui")
        outputFolder = self.home.appendingPathComponent("Pictures/PhotoVerse")
        var env = [
            "HOME": self.home.path, "XDG_CONFIG_HOME": self.home.appendingPathComponent(".config").path,
            "XDG_DATA_HOME": self.home.appendingPathComponent(".local/share").path,
            "TERM": "xterm-256color", "LANG": "C.UTF-8", "SWIFT_BACKTRACE": "enable=no",
            "PATH": "/usr/bin:/bin",
        ]
        env.merge(environment) { $1 }
        let assignments = env.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quote($0.value))" }.joined(separator: " ")
        let command = ([PhotoverseUIBinary.url.path] + subcommand + arguments).map(Self.quote).joined(separator: " ")
        let script = """
            cd \(Self.quote(self.home.path))
            env -i \(assignments) \(command)
            echo "EXITED $?"
            if stty -a | grep -q -- '-icanon'; then echo 'TTY RAW'; else echo 'TTY COOKED'; fi
            exec sleep 600
            """
        let scriptFile = self.home.appendingPathComponent("run-photoverse.sh")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)
        try tmux(["-f", "/dev/null", "new-session", "-d", "-x", "\(columns)", "-y", "\(rows)", "-s", "main", "sh \(Self.quote(scriptFile.path))"])
    }

    deinit { close() }

    func close() {
        guard !closed else { return }
        closed = true
        _ = try? tmux(["kill-server"])
        try? FileManager.default.removeItem(at: home)
    }

    static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Runs a tmux client command and returns what it printed. posix_spawn + waitpid rather
    /// than Foundation's Process: Process notices an exit through a socket the child inherits,
    /// and the tmux server forked by the first command would keep it open forever.
    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
        let capture = home.appendingPathComponent("tmux-output-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: capture) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, capture.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = [Self.tmuxPath!, "-L", socket] + arguments
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, Self.tmuxPath!, &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw TmuxFailed(description: "cannot run tmux: error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (try? String(contentsOf: capture, encoding: .utf8)) ?? ""
    }

    struct TmuxFailed: Error, CustomStringConvertible { let description: String }

    /// Key names as tmux spells them (Enter, Tab, BTab, Escape, Up, C-u, ...), or plain characters.
    func send(_ keys: String...) throws { try tmux(["send-keys", "-t", "main"] + keys) }

    /// Types text literally.
    func type(_ text: String) throws { try tmux(["send-keys", "-t", "main", "-l", text]) }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", "main"]) }

    /// The screen with its colour and attribute escape sequences.
    func screenWithEscapes() throws -> String { try tmux(["capture-pane", "-p", "-e", "-t", "main"]) }

    /// A tmux format about the pane, e.g. #{alternate_on}, #{cursor_flag}, #{pane_pid}.
    func query(_ format: String) throws -> String {
        try tmux(["display-message", "-p", "-t", "main", format]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func resize(columns: Int, rows: Int) throws {
        try tmux(["resize-window", "-t", "main", "-x", "\(columns)", "-y", "\(rows)"])
    }

    /// Polls the screen until `condition` holds; fails with the last screen after `timeout` (a
    /// deadline for a broken UI, never a timing: generous, as CI machines may be busy).
    @discardableResult
    func wait(timeout: Double = 30, _ what: String, file: StaticString = #filePath, line: UInt = #line,
              until condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if condition(last) { return last }
            Thread.sleep(forTimeInterval: 0.03)
        }
        // Printed too: XCTest may drop a long multi-line failure message.
        print("timed out waiting for \(what); the screen was:\n\(last)")
        XCTFail("timed out after \(timeout) s waiting for \(what) (screen printed above)", file: file, line: line)
        throw WaitTimedOut()
    }

    struct WaitTimedOut: Error {}

    @discardableResult
    func waitFor(_ text: String, timeout: Double = 30, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try wait(timeout: timeout, "'\(text)'", file: file, line: line) { $0.contains(text) }
    }

    /// The photoverse process: the child of the pane's shell.
    func programPID() throws -> Int32? {
        let shell = try query("#{pane_pid}")
        let children = (try? String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8)) ?? ""
        for pid in children.split(separator: " ").compactMap({ Int32($0) }) {
            let name = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
            if name.hasPrefix("photoverse") { return pid }
        }
        return nil
    }

    /// After the program ended: its exit status, and that the terminal is fully back
    /// (main screen, cursor shown, cooked mode).
    func assertExitedRestored(status: Int, timeout: Double = 30, file: StaticString = #filePath, line: UInt = #line) throws {
        let screen = try waitFor("TTY ", timeout: timeout, file: file, line: line)
        XCTAssertTrue(screen.contains("EXITED \(status)"), "exit status: \(screen)", file: file, line: line)
        XCTAssertTrue(screen.contains("TTY COOKED"), "terminal left in raw mode: \(screen)", file: file, line: line)
        XCTAssertEqual(try query("#{alternate_on}"), "0", "still on the alternate screen", file: file, line: line)
        XCTAssertEqual(try query("#{cursor_flag}"), "1", "cursor left hidden", file: file, line: line)
    }
}
