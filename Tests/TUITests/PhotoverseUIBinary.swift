import Foundation

/// The built `photoverse` binary: it sits next to the test bundle (.build*/debug/), whatever
/// the scratch path.
enum PhotoverseUIBinary {
    static var url: URL {
        var folder = Bundle.main.bundleURL
        if folder.pathExtension == "xctest" { folder.deleteLastPathComponent() }
        return folder.appendingPathComponent("photoverse")
    }
}
