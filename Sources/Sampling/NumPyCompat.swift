import Foundation

/// The few NumPy routines diffusers builds its schedules with, reproduced operation for operation
/// (Float64 arithmetic, the same rounding) so that timesteps come out identical.
enum NumPy {
    /// `np.linspace(start, stop, num, endpoint)`: `i * step + start`, the last value pinned to
    /// `stop` when `endpoint`; a single value is `start`.
    static func linspace(_ start: Double, _ stop: Double, _ num: Int, endpoint: Bool = true) -> [Double] {
        guard num > 0 else { return [] }
        let div = endpoint ? num - 1 : num
        let delta = stop - start
        guard div > 0 else { return [start] }
        let step = delta / Double(div)
        var y = (0..<num).map { step == 0 ? Double($0) / Double(div) * delta + start : Double($0) * step + start }
        if endpoint && num > 1 { y[num - 1] = stop }
        return y
    }

    /// `np.arange(start, stop, step)` for floats: NumPy fills `start + i * delta` with
    /// `delta = (start + step) - start`, `ceil((stop - start) / step)` values.
    static func arange(_ start: Double, _ stop: Double, _ step: Double) -> [Double] {
        let length = max(Int(((stop - start) / step).rounded(.up)), 0)
        guard length > 0 else { return [] }
        let delta = (start + step) - start
        return (0..<length).map { $0 == 0 ? start : ($0 == 1 ? start + step : start + Double($0) * delta) }
    }

    /// `np.round` (round half to even).
    @inline(__always)
    static func round(_ x: Double) -> Double { x.rounded(.toNearestOrEven) }

    /// `np.interp(x, np.arange(len(fp)), fp)` for one point (NumPy's arr_interp in Float64).
    static func interp(_ x: Double, _ fp: [Float]) -> Double {
        let last = fp.count - 1
        if x.isNaN { return x }
        if x < 0 { return Double(fp[0]) }
        if x > Double(last) { return Double(fp[last]) }
        let j = min(Int(x.rounded(.down)), last)
        if j == last || Double(j) == x { return Double(fp[j]) }
        let slope = (Double(fp[j + 1]) - Double(fp[j])) / 1.0
        return slope * (x - Double(j)) + Double(fp[j])
    }
}
