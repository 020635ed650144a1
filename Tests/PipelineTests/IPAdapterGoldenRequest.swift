import Formats
import Pipeline
import TensorCore

extension PreparedRequest {
    /// The run every IP-Adapter golden was drawn with (make_photoverse_fixtures.py,
    /// make_ip_adapter_variants.py: PLAIN_PROMPT, NEGATIVE, DDIM 4 steps, guidance 5, 64x64,
    /// image weight 0.6) from the golden's noise, with the case's references and face embedding.
    static func ipAdapterGolden(noise: Tensor, references: [RGBImage], faceEmbedding: Tensor? = nil) -> PreparedRequest {
        var request = PreparedRequest(prompt: "a photo of an astronaut riding a horse")
        request.negativePrompt = "blurry, low quality"
        request.guidance = 5
        request.steps = 4
        request.width = 64
        request.height = 64
        request.noise = noise
        var personalization = Personalization(references: references)
        personalization.imageWeight = 0.6
        personalization.faceEmbedding = faceEmbedding
        request.personalization = personalization
        return request
    }
}
