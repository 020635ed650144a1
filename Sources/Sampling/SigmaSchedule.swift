import Foundation

/// Sigma-space helpers shared by the sigma-based schedulers (diffusers' `_convert_to_karras`,
/// `_sigma_to_t`), in Float64 as NumPy computes them.
enum SigmaSchedule {
    /// Karras et al. (2022) spacing, rho = 7: `(max^(1/ρ) + ramp · (min^(1/ρ) − max^(1/ρ)))^ρ`.
    static func karras(sigmaMin: Double, sigmaMax: Double, count: Int) -> [Double] {
        let rho = 7.0
        let minInvRho = pow(sigmaMin, 1 / rho)
        let maxInvRho = pow(sigmaMax, 1 / rho)
        return NumPy.linspace(0, 1, count).map { pow(maxInvRho + $0 * (minInvRho - maxInvRho), rho) }
    }

    /// The fractional training timestep whose log-sigma interpolates to `sigma`
    /// (`logSigmas` ascending in t, as `np.log` of the Float32 training sigmas).
    static func timestep(forSigma sigma: Double, logSigmas: [Float]) -> Double {
        let logSigma = log(max(sigma, 1e-10))
        // cumsum(dists >= 0).argmax(): the last index whose log-sigma is <= logSigma, else 0.
        var low = 0
        for (i, value) in logSigmas.enumerated() where logSigma - Double(value) >= 0 { low = i }
        low = min(low, logSigmas.count - 2)
        let lowValue = logSigmas[low], highValue = logSigmas[low + 1]
        // NumPy: (float32 - float64) / (float32 - float32).
        var w = (Double(lowValue) - logSigma) / Double(lowValue - highValue)
        w = min(max(w, 0), 1)
        return (1 - w) * Double(low) + w * Double(low + 1)
    }
}
