import Foundation
import Formats
import Models

/// Turns a reference photo into the image encoder's input (PhotoVerse's preprocessing):
/// find the face, enlarge its box 1.3x into a square around its centre, crop (padding with
/// the background colour where the square leaves the photo), resize to the encoder's size
/// with Pillow's bicubic filter (what CLIPImageProcessor uses), and mask the background
/// (`ReferenceMask`).
///
/// With the face mesh (`Models/face-mesh`, located by the front end) an auto crop is also
/// turned about its centre so the eyes are level, and the mask is the mesh's face outline
/// with a soft edge; without it (or for x,y,w,h crops, where no face was detected) the crop
/// stays upright and the mask is the fixed ellipse.
public enum ReferencePreparation {
    public enum Masking: Sendable {
        /// The face outline when the mesh found the face, else the ellipse, for a known face
        /// region (auto, x,y,w,h); none for the whole image.
        case automatic
        case ellipse
        case off
    }

    public struct Options: Sendable {
        /// Face box side -> crop side (the paper's 1.3).
        public var enlargement: Float = 1.3
        /// Faces smaller than this (in source pixels, the box's shorter side) are refused:
        /// upscaled to the encoder's size they would be mostly blur.
        public var minimumFaceSize = 40
        public var masking: Masking = .automatic
        /// What masked-out and padded pixels become.
        public var background: RGBColor = ReferenceMask.backgroundColor
        /// Auto crops: run the face mesh when it is available (eye levelling, outline mask).
        public var useFaceMesh = true

        public init() {}
    }

    /// Reads `file` (PNG or JPEG) and prepares it.
    public static func prepare(file: URL, crop: CropMode = .auto, outputSize: Int, options: Options = Options(),
                               faces: FaceModels) throws -> PreparedReference {
        let image: RGBImage
        do {
            image = try ImageFile.load(file)
        } catch let error as FormatError {
            throw ReferencePreparationError.unreadable(file: file.path, reason: error.message)
        } catch {
            throw ReferencePreparationError.unreadable(file: file.path, reason: "\(error)")
        }
        return try prepare(image: image, file: file.path, crop: crop, outputSize: outputSize, options: options,
                           faces: faces)
    }

    /// Prepares a decoded photo; `file` names it in messages.
    public static func prepare(image: RGBImage, file: String, crop: CropMode = .auto, outputSize: Int,
                               options: Options = Options(), faces: FaceModels) throws -> PreparedReference {
        precondition(outputSize > 0, "output size must be positive, got \(outputSize)")
        guard image.width > 0, image.height > 0 else {
            throw ReferencePreparationError.unreadable(file: file, reason: "the image is empty")
        }
        try crop.validate(imageWidth: image.width, imageHeight: image.height, file: file)
        let region: BoundingBox, faceBox: BoundingBox?, summary: String
        var detections: [FaceDetection] = [], faceCount: Int?
        var landmarks: FaceLandmarks?
        switch crop {
        case .auto:
            detections = try faces.detector().detect(image)
            guard let largest = detections.max(by: { $0.box.area < $1.box.area }) else {
                throw ReferencePreparationError.noFace(file: file)
            }
            let width = Int(largest.box.width.rounded()), height = Int(largest.box.height.rounded())
            if min(width, height) < options.minimumFaceSize {
                throw ReferencePreparationError.faceTooSmall(file: file, width: width, height: height, minimum: options.minimumFaceSize)
            }
            faceBox = largest.box
            faceCount = detections.count
            region = square(around: largest.box, scale: options.enlargement)
            if options.useFaceMesh, let mesh = try faces.mesh() {
                let found = mesh.landmarks(in: image, detection: largest)
                if mesh.isFace(found) { landmarks = found }
            }
            let faces = detections.count == 1 ? "1 face" : "\(detections.count) faces, largest used"
            summary = "\(faces) · crop \(String(format: "%g", options.enlargement))x"
                + (landmarks != nil && options.masking != .off && options.masking != .ellipse ? " · outline mask" : "")
        case let .box(x, y, width, height):
            faceBox = BoundingBox(xmin: Float(x), ymin: Float(y), xmax: Float(x + width), ymax: Float(y + height))
            region = square(around: faceBox!, scale: 1)
            summary = "crop \(crop)"
        case .none:
            faceBox = nil
            region = square(around: BoundingBox(xmin: 0, ymin: 0, xmax: Float(image.width), ymax: Float(image.height)), scale: 1)
            summary = "whole image"
        }
        let side = Int(region.width.rounded())
        let rotation = landmarks?.eyeLineAngle ?? 0
        let cropToSource = levelledCrop(region, rotation: rotation)
        let cropped = landmarks == nil
            ? image.cropped(x: Int(region.xmin.rounded()), y: Int(region.ymin.rounded()), width: side, height: side, fill: options.background)
            // At the photo's own scale (no aliasing), then resized like the upright crop.
            : image.warped(width: side, height: side, outputToSource: cropToSource, border: .constant(options.background))
        var prepared = cropped.resized(width: outputSize, height: outputSize, filter: .bicubic)
        let useMask: Bool
        switch options.masking {
        case .automatic: useMask = crop != .none
        case .ellipse: useMask = true
        case .off: useMask = false
        }
        var mask: ReferenceMask?
        if useMask {
            if let landmarks, options.masking == .automatic, let sourceToCrop = cropToSource.inverted {
                // Source pixels -> crop pixel indices -> the output's continuous coordinates.
                let scale = Float(outputSize) / Float(side)
                let outline = landmarks.faceOutline.map { (sourceToCrop.apply($0) + 0.5) * scale }
                mask = ReferenceMask.outline(outline, width: outputSize, height: outputSize)
            } else {
                mask = ReferenceMask.ellipse(width: outputSize, height: outputSize)
            }
        }
        if let mask { prepared = mask.apply(to: prepared, background: options.background) }
        return PreparedReference(image: prepared, faceBox: faceBox, cropRegion: region, faceCount: faceCount,
                                 detections: detections, mask: mask, landmarks: landmarks, rotation: rotation, summary: summary)
    }

    /// Crop pixel (x, y) of the square `region` -> source pixels, turned by `rotation` about
    /// the region's centre (pixel centres at whole coordinates; 0 gives region.xmin + x).
    static func levelledCrop(_ region: BoundingBox, rotation: Float) -> AffineTransform2D {
        let half = (Double(region.width.rounded()) - 1) / 2
        let cx = Double(region.xmin.rounded()) + half, cy = Double(region.ymin.rounded()) + half
        let c = Double(cos(rotation)), s = Double(sin(rotation))
        return AffineTransform2D(a: c, b: -s, tx: cx - (c * half - s * half), c: s, d: c, ty: cy - (s * half + c * half))
    }

    /// The square of side `scale` x the box's longer side, centred on the box, in whole pixels.
    static func square(around box: BoundingBox, scale: Float) -> BoundingBox {
        let side = max(1, (max(box.width, box.height) * scale).rounded())
        let x = (box.centerX - side / 2).rounded(), y = (box.centerY - side / 2).rounded()
        return BoundingBox(xmin: x, ymin: y, xmax: x + side, ymax: y + side)
    }
}
