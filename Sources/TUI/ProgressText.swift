import Foundation

/// The words and numbers of the progress line: "12/25  0.05 s/step  0:01 elapsed  ETA 0:01".
public enum ProgressText {
    /// m:ss (h:mm:ss from an hour on).
    public static func duration(_ seconds: Double) -> String {
        let total = Int(max(0, seconds).rounded())
        let hours = total / 3600, minutes = (total % 3600) / 60, rest = total % 60
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }

    public static func secondsPerStep(_ value: Double) -> String {
        value >= 10 ? String(format: "%.0f s/step", value) : value >= 1 ? String(format: "%.1f s/step", value)
            : String(format: "%.2f s/step", value)
    }

    public static func summary(step: Int, total: Int, secondsPerStep: Double, elapsed: Double) -> String {
        let remaining = secondsPerStep * Double(max(0, total - step))
        return "\(step)/\(total)  \(self.secondsPerStep(secondsPerStep))  \(duration(elapsed)) elapsed  ETA \(duration(remaining))"
    }

    /// A bar of `width` cells, `█` done and `░` to go.
    public static func bar(fraction: Double, width: Int) -> String {
        guard width > 0 else { return "" }
        let done = min(width, max(0, Int((fraction * Double(width)).rounded(.down))))
        return String(repeating: "█", count: done) + String(repeating: "░", count: width - done)
    }
}
