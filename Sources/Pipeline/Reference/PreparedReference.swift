import Formats
import Models

/// A reference photo made ready for the image encoder.
public struct PreparedReference: Equatable, Sendable {
    /// The square, masked crop at the encoder's input size.
    public let image: RGBImage
    /// The face in source pixels: the detector's box (auto), the given box (x,y,w,h), or nil (none).
    public let faceBox: BoundingBox?
    /// The square region that was cropped, in source pixels; it may reach past the photo's
    /// edges, where the background colour fills in.
    public let cropRegion: BoundingBox
    /// Faces the detector found (auto only; nil when it did not run).
    public let faceCount: Int?
    /// Every detection, best score first (auto only).
    public let detections: [FaceDetection]
    /// The mask applied to `image`, or nil when none was.
    public let mask: ReferenceMask?
    /// The face mesh's landmarks of the face used (auto with Models/face-mesh only), in
    /// source pixels; they gave the mask's outline and the crop's rotation.
    public let landmarks: FaceLandmarks?
    /// How far the crop was turned to level the eyes, radians clockwise on screen (0: not turned).
    public let rotation: Float
    /// One line for the UI and the CLI: "1 face · crop 1.3x", "2 faces, largest used · crop 1.3x",
    /// "crop 10,20,200,200", "whole image".
    public let summary: String
}
