import TensorCore

/// The cheap preview: SD1.x latents → RGB by a fixed 4x3 linear map (the
/// community-measured factors), no VAE needed, so it costs nothing per step.
public enum LatentPreview {
    static let factors: [[Float]] = [
        [0.298, 0.207, 0.208],
        [0.187, 0.286, 0.173],
        [-0.158, 0.189, 0.264],
        [-0.184, -0.271, -0.473],
    ]

    /// latents [1, C, h, w] → [1, 3, h, w] in [0, 1] from the first four channels (any more are
    /// ignored). The factors are SD's: for another latent space (PhotoVerse-mini's) the colours mean
    /// little, which is why the automatic preview decodes such small models with their VAE.
    public static func project(_ latents: Tensor) -> Tensor {
        let channels = latents.shape[1], h = latents.shape[2], w = latents.shape[3], plane = h * w
        let out = Tensor(shape: [1, 3, h, w])
        for c in 0..<3 {
            let dst = out.data + c * plane
            for l in 0..<min(channels, factors.count) {
                let f = factors[l][c], src = latents.data + l * plane
                for i in 0..<plane { dst[i] += f * src[i] }
            }
            for i in 0..<plane { dst[i] = min(max((dst[i] + 1) / 2, 0), 1) }
        }
        return out
    }
}
