import Dispatch
import Foundation

/// Splits element-wise and per-row work over the machine's cores with Dispatch.
public enum Parallel {
    /// Number of workers; all cores unless `PHOTOVERSE_THREADS` says otherwise.
    public static let workers: Int = {
        if let text = ProcessInfo.processInfo.environment["PHOTOVERSE_THREADS"], let n = Int(text), n > 0 {
            return n
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Calls `body(range)` on disjoint sub-ranges covering `0..<count`, in parallel
    /// when there is enough work (`grain` = smallest range worth a thread).
    public static func forRanges(_ count: Int, grain: Int = 4096, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(workers * 4, max(1, count / max(grain, 1)))
        if chunks <= 1 || workers == 1 {
            body(0..<count)
            return
        }
        let per = (count + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = chunk * per
            let end = min(count, start + per)
            if start < end { body(start..<end) }
        }
    }

    /// Calls `body(i)` for every i in `0..<count`, spread over the cores.
    /// `costPerItem` (in elements touched) decides whether threading pays.
    public static func forEach(_ count: Int, costPerItem: Int = 1, _ body: (Int) -> Void) {
        let grain = max(1, 16384 / max(costPerItem, 1))
        forRanges(count, grain: grain) { range in
            for i in range { body(i) }
        }
    }
}
