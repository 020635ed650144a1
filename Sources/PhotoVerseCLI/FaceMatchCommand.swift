import ArgumentParser
import Foundation
import Formats
import Pipeline

/// `photoverse face-match IMAGE REFERENCE...`: the identity score of any image against
/// reference photos, with the scorer a model would get (for checking a result made elsewhere,
/// and for training/check_dlib_face.py, which holds the Swift descriptors to dlib's).
struct FaceMatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "face-match",
        abstract: "Score how much an image's face looks like reference photos.")

    @Argument(help: "The image to score.") var image: String
    @Argument(help: "Reference photos of the person.") var references: [String]
    @Option(help: "A model folder: its own evaluator/ scores when it has one.") var model: String?
    @OptionGroup var scorer: FaceScorerOption
    @Flag(help: "Print a JSON record with the embeddings.") var json = false

    func run() throws {
        do {
            var request = GenerationRequest(prompt: "")
            request.model = model
            request.identity.references = references.map { ReferenceSource(path: $0, crop: .auto) }
            guard let scoring = try scorer.scoring(for: request) else {
                throw UserFacingError("no face scorer: give --face-scorer FOLDER (made by training/convert_dlib_face.py) or a --model with an evaluator/")
            }
            let picture = try ImageFile.load(URL(fileURLWithPath: image))
            for path in references { _ = try ImageFile.load(URL(fileURLWithPath: path)) }
            let score = scoring.score(picture, for: request)
            if json {
                let embed = { (path: String) -> [Float]? in
                    (try? ImageFile.load(URL(fileURLWithPath: path))).flatMap { scoring.scorer.embedding(of: $0, isReference: path != image) }
                }
                let record: [String: Any] = [
                    "scorer": scoring.scorer.name,
                    "identity_score": score.map { try! JSONSerialization.jsonObject(with: Data($0.json.utf8)) } ?? NSNull(),
                    "embeddings": Dictionary(uniqueKeysWithValues: ([image] + references).map { ($0, embed($0).map { $0.map(Double.init) } as Any? ?? NSNull()) }),
                ]
                let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(score?.description ?? "no face match: no face found in the image or the references (\(scoring.scorer.name))")
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("photoverse face-match: \("\(error)".terminalSafe)\n".utf8))
            throw ExitCode(1)
        }
    }
}
