import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Leaves the terminal usable whatever happens to the process. SIGINT, SIGTERM and SIGHUP
/// only set a flag the UI's main loop polls (it then shuts down properly with endwin);
/// a second one, or a fatal signal (a crash), restores the terminal from the handler
/// itself with async-signal-safe calls only (write, tcsetattr), then lets the signal
/// proceed as it would have (the previous handler, e.g. Swift's backtracer, or the default).
public enum TerminalRestorer {
    public static let terminationSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    public static let fatalSignals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP]

    /// Leave the alternate screen, show the cursor, reset colours and the keypad mode.
    public static let restoreSequence = "\u{1B}[0m\u{1B}[?1049l\u{1B}[?25h\u{1B}[?1l\u{1B}>\r\n"

    /// The termination signal received, or 0 (polled by the main loop).
    public static var pendingSignal: Int32 { restorerState.pendingSignal }

    /// Saves the terminal settings now (call before ncurses starts) and installs the handlers.
    public static func install() {
        let state = restorerState
        tcgetattr(STDIN_FILENO, &state.savedTermios)
        state.hasSavedTermios = isatty(STDIN_FILENO) != 0
        for signal in terminationSignals + fatalSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = signal_handler_entry
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            var previous = sigaction()
            sigaction(signal, &action, &previous)
            state.previousActions[Int(signal)] = previous
        }
        state.installed = true
    }

    /// Puts back the handlers that were there before `install`.
    public static func uninstall() {
        let state = restorerState
        guard state.installed else { return }
        for signal in terminationSignals + fatalSignals {
            var previous = state.previousActions[Int(signal)]
            sigaction(signal, &previous, nil)
        }
        state.installed = false
    }

    /// Writes the restore sequence and puts the saved terminal settings back (signal-safe).
    public static func restoreNow() {
        restorerState.restore()
    }
}

/// Everything the signal handler touches, allocated before any signal can arrive.
final class RestorerState: @unchecked Sendable {
    var savedTermios = termios()
    var hasSavedTermios = false
    var installed = false
    var pendingSignal: Int32 = 0
    var previousActions = Array(repeating: sigaction(), count: 65)
    let sequence: UnsafeMutableBufferPointer<UInt8>

    init() {
        let bytes = Array(TerminalRestorer.restoreSequence.utf8)
        sequence = .allocate(capacity: bytes.count)
        _ = sequence.initialize(from: bytes)
    }

    func restore() {
        _ = write(STDOUT_FILENO, sequence.baseAddress, sequence.count)
        if hasSavedTermios { tcsetattr(STDIN_FILENO, TCSANOW, &savedTermios) }
    }
}

let restorerState = RestorerState()

private func signal_handler_entry(_ signal: Int32) {
    let state = restorerState
    let isTermination = TerminalRestorer.terminationSignals.contains(signal)
    if isTermination && state.pendingSignal == 0 {
        state.pendingSignal = signal   // the main loop shuts down cleanly
        return
    }
    state.restore()
    // Let the signal do what it would have done without us.
    var previous = state.previousActions[Int(signal)]
    sigaction(signal, &previous, nil)
    raise(signal)
}
