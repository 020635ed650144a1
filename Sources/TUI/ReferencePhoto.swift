import Foundation
import Formats
import Pipeline

/// The chosen reference photo as the reference panel shows it: the photo, the face crop the
/// engine will see (through Pipeline's ReferencePreparation) and a one-line description.
public struct ReferencePhoto: Equatable {
    public let path: String
    public let crop: CropMode
    public let photo: RGBImage?
    public let face: RGBImage?
    /// "1 face · crop 1.3x", or why the face could not be prepared (one line).
    public let summary: String
    public let failed: Bool
}
