import Foundation
import Formats
import Sampling

/// The parameters of one finished generation, embedded in its PNG twice: an A1111-style
/// `parameters` text chunk (for other tools and people) and a `photoverse` JSON chunk
/// (exact, so a run can be reloaded). CLI and TUI write results through this one type.
public struct GenerationRecord: Codable, Equatable {
    public var prompt: String
    public var negativePrompt = ""
    public var steps = 25
    public var guidance: Float = 7.5
    public var sampler = SamplerKind.ddim.rawValue
    public var seed: UInt64 = 0
    public var width = 512
    public var height = 512
    public var strength: Double?
    public var model = ""
    // PhotoVerse (nil when no reference was used).
    public var references: [String]?
    public var crop: String?
    public var textWeight: Float?
    public var imageWeight: Float?
    public var loraScale: Float?
    public var pseudoWords: Int?
    public var imageStart: Double?
    public var imageEnd: Double?
    public var identityGuidance: Float?
    public var adapter: String?

    public init(prompt: String) { self.prompt = prompt }

    public static let jsonKey = "photoverse"

    /// "prompt\nNegative prompt: ...\nSteps: 25, Sampler: ..., CFG scale: 7.5, Seed: 1, Size: 64x64, ...".
    public var a1111Parameters: String {
        var fields = ["Steps: \(steps)", "Sampler: \(sampler)", "CFG scale: \(guidance)", "Seed: \(seed)",
                      "Size: \(width)x\(height)"]
        if let strength { fields.append("Denoising strength: \(strength)") }
        if !model.isEmpty { fields.append("Model: \(model)") }
        if let references, !references.isEmpty {
            fields.append("Reference: \(references.joined(separator: "; "))")
            if let textWeight { fields.append("Text weight: \(textWeight)") }
            if let imageWeight { fields.append("Image weight: \(imageWeight)") }
            if let loraScale { fields.append("LoRA scale: \(loraScale)") }
            if let pseudoWords { fields.append("Pseudo-words: \(pseudoWords)") }
            if let identityGuidance { fields.append("Identity CFG scale: \(identityGuidance)") }
        }
        return "\(prompt)\nNegative prompt: \(negativePrompt)\n" + fields.joined(separator: ", ")
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    var textChunks: [String: String] { ["parameters": a1111Parameters, Self.jsonKey: json] }

    /// Writes `image` atomically: to `file` (which must not exist) or to the next free
    /// `photoverse-NNNN.png` in `folder`. Returns where it went.
    @discardableResult
    public func save(_ image: RGBImage, to file: URL? = nil, inFolder folder: URL) throws -> URL {
        if let file {
            try PNGCodec.write(image, text: textChunks, to: file)
            return file
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try PNGCodec.writeNumbered(image, text: textChunks, in: folder, prefix: "photoverse")
    }

    /// Reads the record a PhotoVerse PNG carries (one line error when it has none).
    public static func load(from url: URL) throws -> GenerationRecord {
        let text = try PNGCodec.readText(url)
        guard let json = text[jsonKey] else {
            throw FormatError(file: url.path, problem: .invalidInput, message: "no PhotoVerse parameters in this PNG")
        }
        do {
            return try JSONDecoder().decode(GenerationRecord.self, from: Data(json.utf8))
        } catch {
            throw FormatError(file: url.path, problem: .invalidInput, message: "unreadable PhotoVerse parameters: \(error.localizedDescription)")
        }
    }
}
