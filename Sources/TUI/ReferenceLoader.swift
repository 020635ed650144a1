import Foundation
import Formats
import Pipeline

/// Loads a picked reference and prepares its face crop for display, on its own queue
/// (face detection takes a moment and must not hold up the UI or wait for a generation).
public final class ReferenceLoader: @unchecked Sendable {
    private let queue = DispatchQueue(label: "photoverse.reference", qos: .userInitiated)
    private let mailbox: Mailbox<EngineEvent>
    /// The crop is shown at this size (the engine prepares its own at the encoder's size).
    public static let displaySize = 160

    private let faces: FaceModels

    public init(mailbox: Mailbox<EngineEvent>, faces: FaceModels) {
        self.mailbox = mailbox
        self.faces = faces
    }

    /// Waits at most `seconds` for a face detection in progress (see GenerationEngine.shutdown).
    public func shutdown(within seconds: Double) -> Bool { GenerationEngine.drain(queue, within: seconds) }

    /// The photo highlighted in the picker (a later highlight makes this one stale; the UI drops it).
    public func preview(path: String, crop: CropMode) {
        queue.async { [mailbox, faces] in mailbox.post(.pickerPreviewLoaded(Self.prepare(path: path, crop: crop, faces: faces))) }
    }

    public func load(path: String, crop: CropMode) {
        queue.async { [mailbox, faces] in mailbox.post(.referenceLoaded(Self.prepare(path: path, crop: crop, faces: faces))) }
    }

    static func prepare(path: String, crop: CropMode, faces: FaceModels) -> ReferencePhoto {
        let url = URL(fileURLWithPath: path)
        let photo: RGBImage
        do {
            photo = try ImageFile.load(url)
        } catch {
            return ReferencePhoto(path: path, crop: crop, photo: nil, face: nil, summary: "\(error)", failed: true)
        }
        do {
            let prepared = try ReferencePreparation.prepare(image: photo, file: url.lastPathComponent,
                                                            crop: crop, outputSize: displaySize, faces: faces)
            return ReferencePhoto(path: path, crop: crop, photo: photo, face: prepared.image, summary: prepared.summary, failed: false)
        } catch {
            return ReferencePhoto(path: path, crop: crop, photo: photo, face: nil, summary: "\(error)", failed: true)
        }
    }
}
