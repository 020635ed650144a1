import Formats
import Foundation

/// Why a reference photo could not be prepared; each description is one line that names
/// the file (or the `--crop` value) and, where there is one, the way out.
public enum ReferencePreparationError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case invalidCrop(String, reason: String)
    case cropOutsideImage(file: String, crop: String, imageWidth: Int, imageHeight: Int)
    case unreadable(file: String, reason: String)
    case noFace(file: String)
    case faceTooSmall(file: String, width: Int, height: Int, minimum: Int)
    case detectorUnavailable(String)
    case meshUnavailable(String)
    case noFaceForEmbedding(file: String)

    public var description: String {
        switch self {
        case let .invalidCrop(text, reason):
            return "--crop '\(text.terminalSafe)': \(reason)"
        case let .cropOutsideImage(file, crop, width, height):
            return "\(file): --crop \(crop) reaches outside the \(width)x\(height) photo"
        case let .unreadable(file, reason):
            return "\(file): cannot read the reference photo: \(reason)"
        case let .noFace(file):
            return "\(file): no face found (the detector needs a face of at least about a tenth of the photo); "
                + "give the face region with --crop x,y,w,h or use the whole photo with --crop none"
        case let .faceTooSmall(file, width, height, minimum):
            return "\(file): the face is only \(width)x\(height) pixels, under the \(minimum)-pixel minimum; "
                + "use a larger photo of the face, or force it with --crop x,y,w,h"
        case let .detectorUnavailable(reason):
            return "face detector unavailable: \(reason); use --crop none or --crop x,y,w,h to skip detection"
        case let .meshUnavailable(reason):
            return "face mesh unavailable: \(reason); remove Models/face-mesh or set PHOTOVERSE_FACE_MESH=none to use the elliptical mask"
        case let .noFaceForEmbedding(file):
            return "\(file): no face found to embed (the detector needs a face of at least about a tenth of the photo); "
                + "crop the photo closer to the face"
        }
    }

    public var errorDescription: String? { description }
}
