import Foundation
import Pipeline

/// Step progress on stderr: a redrawn bar on a terminal, plain lines otherwise.
final class ProgressReporter {
    private let isTerminal = isatty(STDERR_FILENO) == 1

    func report(_ p: StepProgress) {
        let timing = String(format: "%.2f s/step, ETA %.0f s", p.secondsPerStep, p.remaining)
        if isTerminal {
            let width = 30, filled = width * p.step / max(p.total, 1)
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            FileHandle.standardError.write(Data("\r\(bar) \(p.step)/\(p.total)  \(timing)\u{1B}[K".utf8))
        } else {
            FileHandle.standardError.write(Data("step \(p.step)/\(p.total) \(timing)\n".utf8))
        }
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
