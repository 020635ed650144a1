import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT, SIGTERM and SIGHUP during a headless run: the handler only records the signal
/// (an atomic store is async-signal-safe); the run's stop flag polls it between layers, the
/// command then says where it stopped, leaves no partial file and dies of the same signal.
enum InterruptWatch {
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    static func install() {
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = recordSignal
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, nil)
        }
    }

    /// The signal received, or 0.
    static var received: Int32 { receivedSignal.load(ordering: .relaxed) }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(signal)"
        }
    }

    /// Ends the process the way the shell expects after `signal` (status 128 + n), without
    /// running library teardown.
    static func die(of signal: Int32) -> Never {
        fflush(stdout)
        fflush(stderr)
        Glibc.signal(signal, SIG_DFL)
        raise(signal)
        _exit(128 + signal)
    }
}

private let receivedSignal = Atomic<Int32>(0)

private func recordSignal(_ signal: Int32) {
    receivedSignal.store(signal, ordering: .relaxed)
}
