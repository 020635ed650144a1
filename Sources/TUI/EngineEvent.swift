import Foundation
import Formats
import Pipeline

/// What the background threads (the engine, the reference loader) tell the UI, through the mailbox.
public enum EngineEvent {
    case referenceLoaded(ReferencePhoto)
    case pickerPreviewLoaded(ReferencePhoto)
    case modelLoaded(LoadedModel)
    case modelFailed(String)
    case runStarted(id: Int, seed: UInt64)
    /// `preview` is nil when the request asks for none (`PreviewDecoder.none`).
    case runProgress(id: Int, step: Int, total: Int, elapsed: Double, preview: RGBImage?)
    case runFinished(id: Int, url: URL, image: RGBImage, record: GenerationRequest, seconds: Double, score: IdentityScore? = nil)
    case runCancelled(id: Int)
    case runFailed(id: Int, message: String)
}

/// The model as the UI needs to know it.
public struct LoadedModel: Equatable, Sendable {
    public let name: String
    /// A PhotoVerse (or IP-Adapter) adapter and its image encoder are there: the identity knobs work.
    public let hasIdentity: Bool
    public let nativeSize: Int
    public let loadSeconds: Double
    /// From the adapter's metadata: a prompt in the model's own words, and what it knows ("drawn faces").
    public var examplePrompt: String?
    public var domain: String?
    /// The folder has a TAESD (taesd/), loaded for previews and the TAESD decoder.
    public var hasTinyAutoencoder: Bool

    public init(name: String, hasIdentity: Bool, nativeSize: Int, loadSeconds: Double,
                examplePrompt: String? = nil, domain: String? = nil, hasTinyAutoencoder: Bool = false) {
        self.name = name
        self.hasIdentity = hasIdentity
        self.nativeSize = nativeSize
        self.loadSeconds = loadSeconds
        self.examplePrompt = examplePrompt
        self.domain = domain
        self.hasTinyAutoencoder = hasTinyAutoencoder
    }
}
