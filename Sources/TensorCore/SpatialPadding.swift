/// Padding of the two spatial axes, each side on its own.
///
/// TensorFlow's SAME padding puts the odd pixel after (bottom/right), which a symmetric
/// (vertical, horizontal) pair cannot express; models converted from TFLite need it.
public struct SpatialPadding: Equatable, Sendable, CustomStringConvertible {
    public var top: Int
    public var bottom: Int
    public var left: Int
    public var right: Int

    public init(top: Int = 0, bottom: Int = 0, left: Int = 0, right: Int = 0) {
        precondition(top >= 0 && bottom >= 0 && left >= 0 && right >= 0,
                     "padding must be non-negative, got \(top), \(bottom), \(left), \(right)")
        self.top = top
        self.bottom = bottom
        self.left = left
        self.right = right
    }

    public static let zero = SpatialPadding()

    /// The same amount on every side.
    public static func uniform(_ amount: Int) -> SpatialPadding {
        SpatialPadding(top: amount, bottom: amount, left: amount, right: amount)
    }

    /// TensorFlow "SAME": the output is ceil(input / stride); of an odd total the extra
    /// pixel goes to the bottom/right.
    public static func same(height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int)) -> SpatialPadding {
        func split(_ size: Int, _ k: Int, _ s: Int) -> (Int, Int) {
            let out = (size + s - 1) / s
            let total = max((out - 1) * s + k - size, 0)
            return (total / 2, total - total / 2)
        }
        let (top, bottom) = split(height, kernel.0, stride.0)
        let (left, right) = split(width, kernel.1, stride.1)
        return SpatialPadding(top: top, bottom: bottom, left: left, right: right)
    }

    /// Output size of a `kernel` window moved by `stride` over a padded `size`.
    public func outputSize(height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int)) -> (Int, Int) {
        precondition(height + top + bottom >= kernel.0 && width + left + right >= kernel.1,
                     "kernel \(kernel.0)x\(kernel.1) larger than padded input \(height)x\(width) (padding \(self))")
        return ((height + top + bottom - kernel.0) / stride.0 + 1, (width + left + right - kernel.1) / stride.1 + 1)
    }

    public var description: String { "top \(top), bottom \(bottom), left \(left), right \(right)" }
}
