import Foundation
import RiptideKernels

/// Rotary embedding of one layer kind (spec §4.2): per-pair inverse frequencies, YaRN-blended on
/// compressed layers. Interleaved pairs (x[2i], x[2i+1]) on the last `dim` entries of a vector.
public struct RoPE: Sendable {
    public let dim: Int
    public let frequencies: [Float]  // [dim/2], fp32

    /// `originalSeqLen` 0 turns YaRN off (ratio-0 layers use rope_theta without it).
    public init(dim: Int, base: Double, originalSeqLen: Int, factor: Double, betaFast: Double, betaSlow: Double) {
        self.dim = dim
        var freqs = (0..<(dim / 2)).map { k -> Float in
            let exponent = Float(2 * k) / Float(dim)
            return 1 / Float(pow(base, Double(exponent)))
        }
        if originalSeqLen > 0 {
            func correctionDim(_ rotations: Double) -> Double {
                Double(dim) * log(Double(originalSeqLen) / (rotations * 2 * Double.pi)) / (2 * log(base))
            }
            let low = max(floor(correctionDim(betaFast)), 0)
            var high = min(ceil(correctionDim(betaSlow)), Double(dim - 1))
            if low == high { high += 0.001 }
            for k in 0..<(dim / 2) {
                let ramp = min(max((Float(k) - Float(low)) / Float(high - low), 0), 1)
                let smooth = 1 - ramp
                freqs[k] = (freqs[k] / Float(factor)) * (1 - smooth) + freqs[k] * smooth
            }
        }
        frequencies = freqs
    }

    /// The table of a layer: compressed layers (ratio > 0) use compress_rope_theta with YaRN.
    public init(config c: ModelConfig, compressed: Bool) {
        self.init(dim: c.ropeHeadDim, base: compressed ? c.compressRopeTheta : c.ropeTheta,
                  originalSeqLen: compressed ? c.originalSeqLen : 0, factor: c.ropeFactor,
                  betaFast: c.betaFast, betaSlow: c.betaSlow)
    }

    /// cos and sin of angle = fp32(pos · freq), evaluated in Double and rounded once.
    public func cosSin(position: Int) -> (cos: [Float], sin: [Float]) {
        var c = [Float](repeating: 0, count: dim / 2), s = c
        for k in 0..<(dim / 2) {
            let angle = Double(Float(position) * frequencies[k])
            c[k] = Float(Foundation.cos(angle))
            s[k] = Float(Foundation.sin(angle))
        }
        return (c, s)
    }

    /// Rotates the last `dim` entries of `v` (in place), result rounded to bf16.
    public func apply(_ v: UnsafeMutableBufferPointer<Float>, _ table: (cos: [Float], sin: [Float]), inverse: Bool = false) {
        let base = v.count - dim
        for k in 0..<(dim / 2) {
            let a = Double(v[base + 2 * k]), b = Double(v[base + 2 * k + 1])
            let c = Double(table.cos[k]), s = inverse ? -Double(table.sin[k]) : Double(table.sin[k])
            v[base + 2 * k] = roundBF16(Float(a * c - b * s))
            v[base + 2 * k + 1] = roundBF16(Float(a * s + b * c))
        }
    }
}
