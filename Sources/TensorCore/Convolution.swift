/// 2-D convolution (NCHW input, [Cout, Cin/groups, kh, kw] weights, PyTorch semantics). Large
/// stride-1 3x3 layers go through Winograd (`winograd: false` forces im2col), others through
/// im2col + GEMM.
extension Tensor {
    public func conv2d(weight: Tensor, bias: Tensor? = nil,
                       stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                       groups: Int = 1, im2colBudget: Int = Tensor.im2colBudget, winograd: Bool = true) -> Tensor {
        precondition(rank == 4, "conv2d input must be [N, C, H, W], got \(shape)")
        precondition(weight.rank == 4, "conv2d weight must be [Cout, Cin, kh, kw], got \(weight.shape)")
        let n = shape[0], cin = shape[1], h = shape[2], w = shape[3]
        let cout = weight.shape[0], kh = weight.shape[2], kw = weight.shape[3]
        precondition(groups > 0 && cin % groups == 0 && cout % groups == 0, "conv2d: \(cin)->\(cout) channels do not split into \(groups) groups")
        precondition(weight.shape[1] == cin / groups, "conv2d weight \(weight.shape) does not fit \(cin) input channels")
        precondition(stride.0 > 0 && stride.1 > 0 && padding.0 >= 0 && padding.1 >= 0, "conv2d: bad stride \(stride) or padding \(padding)")
        if let bias { precondition(bias.count == cout, "conv2d bias must have \(cout) values, got \(bias.shape)") }
        // Checked before dividing: Swift's / truncates toward zero, so (−1) / 2 + 1 would be 1.
        precondition(h + 2 * padding.0 >= kh && w + 2 * padding.1 >= kw,
                     "conv2d: kernel \(kh)x\(kw) larger than padded input \(h)x\(w) (padding \(padding))")
        let oh = (h + 2 * padding.0 - kh) / stride.0 + 1
        let ow = (w + 2 * padding.1 - kw) / stride.1 + 1
        precondition(oh > 0 && ow > 0, "conv2d: kernel \(kh)x\(kw) larger than padded input \(h)x\(w)")
        if winograd, Tensor.prefersWinograd(images: n, cin: cin, cout: cout, outHeight: oh, outWidth: ow, kh: kh, kw: kw,
                                             stride: stride, padding: padding, groups: groups) {
            return winogradConv3x3(weight: weight, bias: bias, padding: padding.0)
        }
        let out = Tensor(uninitializedShape: [n, cout, oh, ow])
        let cinG = cin / groups, coutG = cout / groups
        let patch = cinG * kh * kw
        let pixels = oh * ow
        let direct = kh == 1 && kw == 1 && stride == (1, 1) && padding == (0, 0)
        // A 1x1 convolution is a plain GEMM on the input; others go through im2col, a band of
        // output rows at a time so that the unfolded matrix stays small (a whole 512x512 layer
        // of the SD VAE would unfold to 2.4 GB; a band is at most `im2colBudget` floats).
        let bandRows = direct ? oh : max(1, min(oh, im2colBudget / max(1, patch * ow)))
        let columns = direct ? nil : TensorStorage(uninitializedCount: patch * bandRows * ow)
        for image in 0..<n {
            for g in 0..<groups {
                let input = data + (image * cin + g * cinG) * h * w
                let output = out.data + (image * cout + g * coutG) * pixels
                if let bias {
                    for c in 0..<coutG {
                        (output + c * pixels).initialize(repeating: bias.data[g * coutG + c], count: pixels)
                    }
                }
                var firstRow = 0
                while firstRow < oh {
                    let rows = min(bandRows, oh - firstRow)
                    let matrix: UnsafePointer<Float>
                    if let columns {
                        Tensor.im2col(input, channels: cinG, height: h, width: w, kh: kh, kw: kw,
                                      stride: stride, padding: padding, firstRow: firstRow, rows: rows,
                                      outWidth: ow, into: columns.pointer)
                        matrix = UnsafePointer(columns.pointer)
                    } else {
                        matrix = UnsafePointer(input)
                    }
                    // The band's output columns are pixels [firstRow·ow, (firstRow+rows)·ow) of
                    // each output channel: C starts there with the full row pitch.
                    BLAS.sgemm(m: coutG, n: rows * ow, k: patch,
                               a: weight.data + g * coutG * patch, lda: patch,
                               b: matrix, ldb: rows * ow, beta: bias == nil ? 0 : 1,
                               c: output + firstRow * ow, ldc: pixels)
                    firstRow += rows
                }
            }
        }
        withExtendedLifetime(columns) {}
        return out
    }

    /// The most floats one im2col band may hold (64 MiB): large enough that each band's GEMM
    /// is thousands of columns wide, small enough that big layers never unfold whole.
    public static let im2colBudget = 16 << 20

    /// Unfolds kernel patches of output rows [firstRow, firstRow + rows) into a
    /// [Cin·kh·kw, rows·ow] matrix (zero padding).
    static func im2col(_ input: UnsafeMutablePointer<Float>, channels: Int, height h: Int, width w: Int,
                       kh: Int, kw: Int, stride: (Int, Int), padding: (Int, Int),
                       firstRow: Int, rows: Int, outWidth ow: Int, into columns: UnsafeMutablePointer<Float>) {
        Parallel.forEach(channels * kh * kw, costPerItem: rows * ow) { row in
            let c = row / (kh * kw), ky = (row / kw) % kh, kx = row % kw
            let plane = input + c * h * w
            let dst = columns + row * rows * ow
            for band in 0..<rows {
                let y = firstRow + band
                let iy = y * stride.0 - padding.0 + ky
                let line = dst + band * ow
                if iy < 0 || iy >= h {
                    line.initialize(repeating: 0, count: ow)
                    continue
                }
                let src = plane + iy * w
                if stride.1 == 1 {
                    // Contiguous run: zero the padded edges, copy the middle.
                    let offset = kx - padding.1
                    let lo = max(0, -offset), hi = min(ow, w - offset)
                    if lo > 0 { line.initialize(repeating: 0, count: min(lo, ow)) }
                    if hi > lo { (line + lo).update(from: src + lo + offset, count: hi - lo) }
                    if hi < ow { (line + max(hi, lo)).initialize(repeating: 0, count: ow - max(hi, lo)) }
                } else {
                    for x in 0..<ow {
                        let ix = x * stride.1 - padding.1 + kx
                        line[x] = ix >= 0 && ix < w ? src[ix] : 0
                    }
                }
            }
        }
    }
}
