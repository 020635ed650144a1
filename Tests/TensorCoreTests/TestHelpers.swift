import XCTest
import TensorCore

// Shared helpers for the TensorCore tests: tolerant comparison, seeded inputs,
// index arithmetic and naive reference implementations (plain nested loops in
// Double, written independently of the library code they check).
//
// Tolerances. Float32 carries ~6e-8 relative precision per rounding. Element-wise
// ops (+ - * /, map, copies, permutes, concat...) are compared EXACTLY: computing
// a single Float op in Double and rounding back gives the same Float. Ops that
// reduce K terms (GEMM, conv, norms, softmax, attention) are compared with
//     |actual - expected| <= atol + rtol * |expected|
// with rtol = 1e-5 and atol = 1e-5 by default: inputs are in [-1, 1] and K is at
// most a few hundred, so the accumulated Float32 error (~sqrt(K)·eps·Σ|terms|,
// worst case K·eps·Σ|terms|) stays below that, while any indexing mistake gives
// errors of order 0.1–1. A few tests with larger sums loosen atol and say why.

let defaultRtol = 1e-5
let defaultAtol = 1e-5

/// Deterministic uniform values in [-scale, scale).
func random(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    Tensor.seededUniform(shape: shape, seed: seed, scale: scale)
}

func doubles(_ t: Tensor) -> [Double] { t.scalars.map(Double.init) }

/// Compares a tensor with expected values (shape first, then every element).
/// NaN must meet NaN, infinities must match exactly.
func assertClose(_ actual: Tensor, _ expected: [Double], shape: [Int],
                 rtol: Double = defaultRtol, atol: Double = defaultAtol,
                 _ message: @autoclosure () -> String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, shape, "shape mismatch. \(message())", file: file, line: line)
    guard actual.count == expected.count else {
        XCTFail("count \(actual.count) != expected \(expected.count). \(message())", file: file, line: line)
        return
    }
    var failures = 0
    var worst = 0.0
    var worstIndex = -1
    for i in 0..<expected.count {
        let a = Double(actual.data[i]), e = expected[i]
        let ok: Bool
        if e.isNaN {
            ok = a.isNaN
        } else if e.isInfinite || a.isInfinite || a.isNaN {
            ok = a == e
        } else {
            let err = abs(a - e)
            ok = err <= atol + rtol * abs(e)
            if err > worst { worst = err; worstIndex = i }
        }
        if !ok {
            failures += 1
            if failures <= 3 {
                XCTFail("element \(i) (index \(unravel(i, shape))): got \(a), expected \(e). \(message())",
                        file: file, line: line)
            }
        }
    }
    if failures > 3 {
        XCTFail("\(failures) elements out of tolerance in total; worst |err| \(worst) at \(worstIndex). \(message())",
                file: file, line: line)
    }
}

func assertClose(_ actual: Tensor, _ expected: Tensor,
                 rtol: Double = defaultRtol, atol: Double = defaultAtol,
                 _ message: @autoclosure () -> String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    assertClose(actual, doubles(expected), shape: expected.shape, rtol: rtol, atol: atol,
                message(), file: file, line: line)
}

/// Exact (bitwise-value) equality of shape and elements.
func assertExact(_ actual: Tensor, _ expected: [Float], shape: [Int],
                 _ message: @autoclosure () -> String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, shape, "shape mismatch. \(message())", file: file, line: line)
    XCTAssertEqual(actual.scalars, expected, message(), file: file, line: line)
}

// MARK: - Index arithmetic

func product(_ shape: [Int]) -> Int { shape.reduce(1, *) }

func unravel(_ flat: Int, _ shape: [Int]) -> [Int] {
    var index = [Int](repeating: 0, count: shape.count)
    var rest = flat
    for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return index
}

func ravel(_ index: [Int], _ shape: [Int]) -> Int {
    var offset = 0
    for (i, d) in zip(index, shape) { offset = offset * d + i }
    return offset
}

// MARK: - Naive references (Double)

/// C[m,n] = op(A) op(B), A stored [m,k] (or [k,m] if transA), B stored [k,n] (or [n,k]).
func refMatmul(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int,
               transA: Bool = false, transB: Bool = false) -> [Double] {
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = transA ? a[p * m + i] : a[i * k + p]
                let bv = transB ? b[j * k + p] : b[p * n + j]
                s += av * bv
            }
            c[i * n + j] = s
        }
    }
    return c
}

/// Direct convolution: out[n][co][y][x] = bias[co] + Σ_{ci in group, ky, kx} in[n][ci][y·s−p+ky][x·s−p+kx]·w[co][ci−g·cinG][ky][kx].
func refConv2d(_ x: [Double], xShape: [Int], _ w: [Double], wShape: [Int], bias: [Double]?,
               stride: (Int, Int), padding: (Int, Int), groups: Int) -> (values: [Double], shape: [Int]) {
    let n = xShape[0], cin = xShape[1], h = xShape[2], wd = xShape[3]
    let cout = wShape[0], cinG = wShape[1], kh = wShape[2], kw = wShape[3]
    precondition(cinG * groups == cin)
    let coutG = cout / groups
    let oh = (h + 2 * padding.0 - kh) / stride.0 + 1
    let ow = (wd + 2 * padding.1 - kw) / stride.1 + 1
    var out = [Double](repeating: 0, count: n * cout * oh * ow)
    for b in 0..<n {
        for co in 0..<cout {
            let g = co / coutG
            for y in 0..<oh {
                for xx in 0..<ow {
                    var s = bias?[co] ?? 0
                    for cg in 0..<cinG {
                        let ci = g * cinG + cg
                        for ky in 0..<kh {
                            let iy = y * stride.0 - padding.0 + ky
                            if iy < 0 || iy >= h { continue }
                            for kx in 0..<kw {
                                let ix = xx * stride.1 - padding.1 + kx
                                if ix < 0 || ix >= wd { continue }
                                s += x[((b * cin + ci) * h + iy) * wd + ix] * w[((co * cinG + cg) * kh + ky) * kw + kx]
                            }
                        }
                    }
                    out[((b * cout + co) * oh + y) * ow + xx] = s
                }
            }
        }
    }
    return (out, [n, cout, oh, ow])
}

/// GroupNorm with the two-pass variance (mean first, then mean of squared deviations).
func refGroupNorm(_ x: [Double], shape: [Int], groups: Int, weight: [Double]?, bias: [Double]?,
                  eps: Double) -> [Double] {
    let n = shape[0], c = shape[1]
    let spatial = product(Array(shape.dropFirst(2)))
    let perGroup = c / groups
    var out = x
    for b in 0..<n {
        for g in 0..<groups {
            var values: [Double] = []
            for ch in (g * perGroup)..<((g + 1) * perGroup) {
                for s in 0..<spatial { values.append(x[(b * c + ch) * spatial + s]) }
            }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            for ch in (g * perGroup)..<((g + 1) * perGroup) {
                for s in 0..<spatial {
                    let i = (b * c + ch) * spatial + s
                    out[i] = (x[i] - mean) / (variance + eps).squareRoot() * (weight?[ch] ?? 1) + (bias?[ch] ?? 0)
                }
            }
        }
    }
    return out
}

func refLayerNorm(_ x: [Double], d: Int, weight: [Double]?, bias: [Double]?, eps: Double) -> [Double] {
    var out = x
    for r in 0..<(x.count / d) {
        let row = Array(x[(r * d)..<((r + 1) * d)])
        let mean = row.reduce(0, +) / Double(d)
        let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d)
        for i in 0..<d {
            out[r * d + i] = (row[i] - mean) / (variance + eps).squareRoot() * (weight?[i] ?? 1) + (bias?[i] ?? 0)
        }
    }
    return out
}

/// Softmax of one row; a row with no finite maximum (all -inf) becomes zeros,
/// which is the documented TensorCore convention.
func refSoftmax(_ row: [Double]) -> [Double] {
    guard let m = row.max(), m > -Double.infinity else { return row.map { _ in 0 } }
    let e = row.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

/// Attention per batch and head with heads packed in the last axis.
/// Causal: query i sees keys j <= i + (Lk - Lq); a query seeing no key gives zeros.
func refAttention(q: [Double], k: [Double], v: [Double], batch: Int, lq: Int, lk: Int,
                  heads: Int, d: Int, dv: Int, causal: Bool, scale: Double?) -> [Double] {
    let s = scale ?? 1 / Double(d).squareRoot()
    var out = [Double](repeating: 0, count: batch * lq * heads * dv)
    for b in 0..<batch {
        for h in 0..<heads {
            for i in 0..<lq {
                var scores = [Double](repeating: -Double.infinity, count: lk)
                for j in 0..<lk {
                    if causal && j > i + (lk - lq) { continue }
                    var dot = 0.0
                    for e in 0..<d {
                        dot += q[(b * lq + i) * heads * d + h * d + e] * k[(b * lk + j) * heads * d + h * d + e]
                    }
                    scores[j] = dot * s
                }
                let p = refSoftmax(scores)
                for e in 0..<dv {
                    var acc = 0.0
                    for j in 0..<lk { acc += p[j] * v[(b * lk + j) * heads * dv + h * dv + e] }
                    out[(b * lq + i) * heads * dv + h * dv + e] = acc
                }
            }
        }
    }
    return out
}

/// Broadcast binary op by explicit multi-index mapping.
func refBroadcast(_ a: [Double], _ aShape: [Int], _ b: [Double], _ bShape: [Int],
                  outShape: [Int], _ op: (Double, Double) -> Double) -> [Double] {
    let rank = outShape.count
    func source(_ idx: [Int], _ shape: [Int]) -> Int {
        let offset = rank - shape.count
        var mapped: [Int] = []
        for (axis, dim) in shape.enumerated() { mapped.append(dim == 1 ? 0 : idx[axis + offset]) }
        return ravel(mapped, shape)
    }
    return (0..<product(outShape)).map { flat in
        let idx = unravel(flat, outShape)
        return op(a[source(idx, aShape)], b[source(idx, bShape)])
    }
}

/// All permutations of 0..<n (n small).
func permutations(_ n: Int) -> [[Int]] {
    if n == 0 { return [[]] }
    var result: [[Int]] = []
    for p in permutations(n - 1) {
        for pos in 0...p.count {
            var q = p
            q.insert(n - 1, at: pos)
            result.append(q)
        }
    }
    return result
}
