import Formats

/// An image with a version number that changes whenever its pixels do (the painter compares versions).
public struct ShownImage {
    public let image: RGBImage
    public let version: Int
}

/// Hands out image versions, unique for the process.
public enum ImageVersion {
    nonisolated(unsafe) private static var counter = 0
    /// Main thread only.
    public static func next() -> Int {
        counter += 1
        return counter
    }
}
