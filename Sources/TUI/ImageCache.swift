import Foundation
import Formats

/// Result images by file, decoded once (a gallery of hundreds of files stays cheap to browse).
public final class ImageCache {
    private var images: [URL: ShownImage] = [:]
    private var order: [URL] = []
    public let capacity: Int

    public init(capacity: Int = 128) { self.capacity = capacity }

    /// The image in `url` (nil when it cannot be read).
    public func image(_ url: URL) -> ShownImage? {
        if let cached = images[url] { return cached }
        guard let image = try? ImageFile.load(url) else { return nil }
        return store(image, for: url)
    }

    @discardableResult
    public func store(_ image: RGBImage, for url: URL) -> ShownImage {
        let shown = ShownImage(image: image, version: ImageVersion.next())
        if images[url] == nil { order.append(url) }
        images[url] = shown
        while order.count > capacity { images[order.removeFirst()] = nil }
        return shown
    }

    public func forget(_ url: URL) {
        images[url] = nil
        order.removeAll { $0 == url }
    }
}
