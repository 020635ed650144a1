import Formats
import Foundation

/// How the reference photo is cropped before the image encoder sees it (`--crop`).
public enum CropMode: Equatable, Sendable, CustomStringConvertible {
    /// Find the face with the detector, enlarge its box 1.3x into a square around its centre.
    case auto
    /// The whole photo, centred on a square (padded with the background colour).
    case none
    /// This region, in source pixels (top-left corner, size); it must lie inside the photo.
    case box(x: Int, y: Int, width: Int, height: Int)

    /// Parses `auto`, `none` or `x,y,w,h` (whole pixels; spaces allowed around the numbers).
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch trimmed {
        case "auto": self = .auto
        case "none": self = .none
        default:
            let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 4 else {
                throw ReferencePreparationError.invalidCrop(text, reason: "expected auto, none or x,y,w,h (four whole numbers of pixels)")
            }
            var numbers: [Int] = []
            for (name, part) in zip(["x", "y", "w", "h"], parts) {
                guard let value = Int(part) else {
                    throw ReferencePreparationError.invalidCrop(text, reason: "\(name) '\(part.terminalSafe)' is not a whole number of pixels")
                }
                // Photos are at most 64 MP, so no side reaches this: the sums below cannot overflow.
                guard abs(value) <= Self.largestCoordinate else {
                    throw ReferencePreparationError.invalidCrop(text, reason: "\(name) \(value) is beyond \(Self.largestCoordinate) pixels")
                }
                numbers.append(value)
            }
            guard numbers[0] >= 0, numbers[1] >= 0 else {
                throw ReferencePreparationError.invalidCrop(text, reason: "x and y must not be negative")
            }
            guard numbers[2] > 0, numbers[3] > 0 else {
                throw ReferencePreparationError.invalidCrop(text, reason: "width and height must be positive")
            }
            self = .box(x: numbers[0], y: numbers[1], width: numbers[2], height: numbers[3])
        }
    }

    static let largestCoordinate = 1 << 20

    /// The `--crop` spelling.
    public var description: String {
        switch self {
        case .auto: return "auto"
        case .none: return "none"
        case let .box(x, y, width, height): return "\(x),\(y),\(width),\(height)"
        }
    }

    /// Throws unless a `.box` lies inside a `width` x `height` photo.
    func validate(imageWidth: Int, imageHeight: Int, file: String) throws {
        guard case let .box(x, y, width, height) = self else { return }
        if x + width > imageWidth || y + height > imageHeight {
            throw ReferencePreparationError.cropOutsideImage(file: file, crop: description,
                                                             imageWidth: imageWidth, imageHeight: imageHeight)
        }
    }
}

/// Stored as its `--crop` spelling ("auto", "none", "x,y,w,h"), so a record reads as the flag.
extension CropMode: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try CropMode(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
