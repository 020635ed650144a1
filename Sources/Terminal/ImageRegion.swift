import Formats

/// An image the app shows in a screen area it owns (ncurses keeps those cells blank).
public struct ImageRegion {
    /// The space the image may use; it is centred there with its aspect ratio kept.
    public var box: CellRect
    public var image: RGBImage
    /// Changes whenever the image's pixels change, so frames compare images cheaply.
    public var version: Int
    /// Paints over stale sixel pixels (erasing cells does not erase them on most terminals).
    public var background: RGBColor

    public init(box: CellRect, image: RGBImage, version: Int, background: RGBColor = .black) {
        self.box = box
        self.image = image
        self.version = version
        self.background = background
    }
}
