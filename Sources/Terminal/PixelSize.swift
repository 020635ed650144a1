/// A size in pixels (a character cell's, or an image's on screen).
public struct PixelSize: Equatable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// What most terminal fonts measure when the terminal will not say.
    public static let typicalCell = PixelSize(width: 10, height: 20)

    public var description: String { "\(width)x\(height)" }
}
