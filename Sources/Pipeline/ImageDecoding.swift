/// What turns the final latents into the picture: the model's own VAE, or its TAESD (the tiny
/// autoencoder, many times less work, slightly softer).
public enum FinalDecoder: String, Codable, CaseIterable, Sendable {
    case full
    case taesd
}

/// What draws each step's preview of x₀ (the step's estimate of the finished latents).
public enum PreviewDecoder: String, Codable, CaseIterable, Sendable {
    /// TAESD when one is loaded, else the VAE when it is small (PhotoVerse-mini), else the projection.
    case auto
    /// The tiny autoencoder: the real picture at full size for a fraction of the VAE's work.
    case taesd
    /// The fixed 4x3 linear map of the latents: free, blurry, at latent resolution.
    case latent
    /// The model's own VAE: exact but, on SD1.5, seconds per step.
    case vae
    /// No preview at all.
    case none
}
