/// The interpolation filters of `RGBImage.resized`, as Pillow defines them.
public enum ResamplingFilter: String, Sendable, CaseIterable {
    /// Triangle filter, support 1 (Pillow's BILINEAR).
    case bilinear
    /// Keys cubic with a = −0.5, support 2 (Pillow's BICUBIC; what CLIPImageProcessor uses).
    case bicubic

    var support: Double {
        switch self {
        case .bilinear: return 1
        case .bicubic: return 2
        }
    }

    func weight(_ t: Double) -> Double {
        let x = abs(t)
        switch self {
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

/// Pillow-compatible resizing (`Image.resize` of an 8-bit RGB image, Pillow 9-13).
///
/// Pillow's algorithm, reproduced step for step so results agree byte for byte: separable
/// passes (horizontal first, then vertical, each rounding to 8 bits); when shrinking, the
/// filter's support is widened by the scale factor, so every source pixel contributes
/// (antialiasing); per output pixel the weights are computed in Double, normalised to sum
/// 1, then turned into 22-bit fixed point, and the sum is rounded and clamped to 0...255.
extension RGBImage {
    /// This picture resized to `width` x `height`. Alpha, if any, is composited on white first.
    public func resized(width newWidth: Int, height newHeight: Int, filter: ResamplingFilter = .bicubic) -> RGBImage {
        precondition(newWidth > 0 && newHeight > 0, "cannot resize to \(newWidth)x\(newHeight)")
        precondition(width > 0 && height > 0, "cannot resize an empty \(width)x\(height) image")
        var image = flattened()
        if newWidth != width {
            image = Self.resampleHorizontally(image, to: newWidth, filter: filter)
        }
        if newHeight != height {
            image = Self.resampleVertically(image, to: newHeight, filter: filter)
        }
        return image
    }

    /// Per output pixel: the first source index and its fixed-point weights.
    struct Coefficients {
        let first: [Int]
        let weights: [[Int32]]
    }

    static let precisionBits = 32 - 8 - 2

    static func coefficients(inSize: Int, outSize: Int, filter: ResamplingFilter) -> Coefficients {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        var first: [Int] = [], weights: [[Int32]] = []
        first.reserveCapacity(outSize)
        weights.reserveCapacity(outSize)
        for index in 0..<outSize {
            let center = (Double(index) + 0.5) * scale
            // Int() truncates toward zero, as Pillow's (int) cast does.
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), inSize)
            var raw = (lo..<hi).map { filter.weight((Double($0) - center + 0.5) / filterScale) }
            let total = raw.reduce(0, +)
            if total != 0 { raw = raw.map { $0 / total } }
            let unit = Double(1 << precisionBits)
            first.append(lo)
            weights.append(raw.map { Int32($0 < 0 ? -0.5 + $0 * unit : 0.5 + $0 * unit) })
        }
        return Coefficients(first: first, weights: weights)
    }

    @inline(__always)
    static func clip8(_ sum: Int) -> UInt8 {
        let shifted = sum >> precisionBits
        return shifted <= 0 ? 0 : (shifted >= 255 ? 255 : UInt8(shifted))
    }

    static func resampleHorizontally(_ image: RGBImage, to outWidth: Int, filter: ResamplingFilter) -> RGBImage {
        let c = coefficients(inSize: image.width, outSize: outWidth, filter: filter)
        let inWidth = image.width
        var out = [UInt8](repeating: 0, count: outWidth * image.height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<image.height {
                    let row = y * inWidth * 3
                    for x in 0..<outWidth {
                        let half = 1 << (precisionBits - 1)
                        var r = half, g = half, b = half
                        var p = row + c.first[x] * 3
                        for k in c.weights[x] {
                            let weight = Int(k)
                            r += Int(src[p]) * weight
                            g += Int(src[p + 1]) * weight
                            b += Int(src[p + 2]) * weight
                            p += 3
                        }
                        let o = (y * outWidth + x) * 3
                        dst[o] = clip8(r)
                        dst[o + 1] = clip8(g)
                        dst[o + 2] = clip8(b)
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: image.height, pixels: out)
    }

    static func resampleVertically(_ image: RGBImage, to outHeight: Int, filter: ResamplingFilter) -> RGBImage {
        let c = coefficients(inSize: image.height, outSize: outHeight, filter: filter)
        let stride = image.width * 3
        var out = [UInt8](repeating: 0, count: stride * outHeight)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outHeight {
                    let weights = c.weights[y], base = c.first[y] * stride
                    for i in 0..<stride {
                        var sum = 1 << (precisionBits - 1)
                        var p = base + i
                        for k in weights {
                            sum += Int(src[p]) * Int(k)
                            p += stride
                        }
                        dst[y * stride + i] = clip8(sum)
                    }
                }
            }
        }
        return RGBImage(width: image.width, height: outHeight, pixels: out)
    }
}
