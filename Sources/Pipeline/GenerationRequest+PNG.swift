import Foundation
import Formats

/// A result's PNG carries its request twice: an A1111-style `parameters` text chunk (for
/// other tools and people) and the `photoverse` JSON chunk (exact, so the run can be reloaded).
extension GenerationRequest {
    public static let jsonKey = "photoverse"

    /// "prompt\nNegative prompt: ...\nSteps: 25, Sampler: ..., CFG scale: 7.5, Seed: 1, Size: 64x64, ...".
    public var a1111Parameters: String {
        var fields = ["Steps: \(steps)", "Sampler: \(sampler.rawValue)", "CFG scale: \(guidance)", "Seed: \(seed)",
                      "Size: \(width)x\(height)"]
        if let strength { fields.append("Denoising strength: \(strength)") }
        if let model { fields.append("Model: \(model)") }
        if isPersonalized {
            fields.append("Reference: \(identity.references.map(\.path).joined(separator: "; "))")
            fields.append("Text weight: \(identity.textWeight)")
            fields.append("Image weight: \(identity.imageWeight)")
            fields.append("LoRA scale: \(identity.loraScale)")
            if let pseudoWords = identity.pseudoWords { fields.append("Pseudo-words: \(pseudoWords)") }
            if let identityGuidance = identity.identityGuidance { fields.append("Identity CFG scale: \(identityGuidance)") }
        }
        return "\(prompt)\nNegative prompt: \(negativePrompt)\n" + fields.joined(separator: ", ")
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    var textChunks: [String: String] { ["parameters": a1111Parameters, Self.jsonKey: json] }

    /// The request's chunks plus what came of it: the identity score, when there is one, in
    /// the `photoverse-result` chunk and the A1111 text ("Face match: 0.82 (dlib)").
    func textChunks(score: IdentityScore?) -> [String: String] {
        var chunks = textChunks
        if let score {
            chunks[ResultRecord.pngKey] = ResultRecord(identityScore: score).json
            chunks["parameters"] = a1111Parameters + ", Face match: \(score.shortText) (\(score.scorer))"
        }
        return chunks
    }

    /// Writes `image` atomically: to `file` (which must not exist) or to the next free
    /// `photoverse-NNNN.png` in `folder`. Returns where it went.
    @discardableResult
    public func save(_ image: RGBImage, to file: URL? = nil, inFolder folder: URL, score: IdentityScore? = nil) throws -> URL {
        let chunks = textChunks(score: score)
        if let file {
            try PNGCodec.write(image, text: chunks, to: file)
            return file
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try PNGCodec.writeNumbered(image, text: chunks, in: folder, prefix: "photoverse")
    }

    /// Reads the request a PhotoVerse PNG carries (one line error when it has none).
    public static func load(from url: URL) throws -> GenerationRequest {
        let text = try PNGCodec.readText(url)
        guard let json = text[jsonKey] else {
            throw FormatError(file: url.path, problem: .invalidInput, message: "no PhotoVerse parameters in this PNG")
        }
        let request: GenerationRequest
        do {
            request = try JSONDecoder().decode(GenerationRequest.self, from: Data(json.utf8))
        } catch {
            throw FormatError(file: url.path, problem: .invalidInput, message: "unreadable PhotoVerse parameters: \(Self.reason(error))")
        }
        do {
            try request.validate()
        } catch {
            throw FormatError(file: url.path, problem: .invalidInput, message: "its PhotoVerse parameters cannot run: \(error)")
        }
        return request
    }

    /// A decoding error as one line: the key path and what was wrong.
    static func reason(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, context):
            return "missing '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
             let DecodingError.dataCorrupted(context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "'\(path)': \(context.debugDescription)".terminalSafe
        default:
            return "\(error)".terminalSafe
        }
    }
}
