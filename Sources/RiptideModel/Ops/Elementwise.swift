import Foundation
import RiptideKernels

// Arithmetic contract shared with the Python oracle (tools/reference): element-wise + − × ÷ in
// Float; exp, log1p, sqrt, rsqrt, sigmoid, silu, cos and sin evaluated in Double and rounded once;
// sums and dot products accumulated in Double and rounded once. bf16 rounding happens exactly at
// the points the spec lists (§6.5, §11.1).

@inline(__always) func exp32(_ x: Float) -> Float { Float(Foundation.exp(Double(x))) }
@inline(__always) func rsqrt32(_ x: Float) -> Float { Float(1.0 / Double(x).squareRoot()) }
@inline(__always) func sqrt32(_ x: Float) -> Float { Float(Double(x).squareRoot()) }
@inline(__always) func sigmoid32(_ x: Float) -> Float { Float(1.0 / (1.0 + Foundation.exp(-Double(x)))) }
@inline(__always) func silu32(_ x: Float) -> Float { let d = Double(x); return Float(d / (1.0 + Foundation.exp(-d))) }

/// torch's softplus (beta 1, threshold 20).
@inline(__always) func softplus32(_ x: Float) -> Float {
    let d = Double(x)
    return Float(d > 20 ? d : Foundation.log1p(Foundation.exp(d)))
}

/// Σ x, accumulated in Double, rounded once.
@inline(__always) func sum32(_ x: UnsafeBufferPointer<Float>) -> Float {
    var acc = 0.0
    for v in x { acc += Double(v) }
    return Float(acc)
}

/// fp32 mean: the Double-accumulated sum rounded to Float, divided by n in Float.
@inline(__always) func mean32(_ x: UnsafeBufferPointer<Float>) -> Float { sum32(x) / Float(x.count) }

/// RMSNorm (spec §2): mean(x²) in fp32, rsqrt(var + eps), y = x·r, out = bf16(w·y). In place.
func rmsNorm(_ x: UnsafeMutableBufferPointer<Float>, weight: [Float], eps: Float) {
    var squares = [Float](repeating: 0, count: x.count)
    for i in 0..<x.count { squares[i] = x[i] * x[i] }
    let r = rsqrt32(squares.withUnsafeBufferPointer(mean32) + eps)
    for i in 0..<x.count { x[i] = roundBF16(weight[i] * (x[i] * r)) }
}

/// RMSNorm of every `width`-row of `x`.
func rmsNormRows(_ x: inout [Float], width: Int, weight: [Float], eps: Float) {
    x.withUnsafeMutableBufferPointer { p in
        forEachRow(p.count / width) { r in
            rmsNorm(UnsafeMutableBufferPointer(rebasing: p[(r * width)..<((r + 1) * width)]), weight: weight, eps: eps)
        }
    }
}

/// Weightless per-head q normalisation with its four bf16 rounding points (spec §11.1.1):
/// bf16(q²) → bf16(mean) → bf16(ms + eps) → bf16(rsqrt) → bf16(q·r). In place on one head.
func qHeadNorm(_ q: UnsafeMutableBufferPointer<Float>, eps: Float) {
    let ms = withUnsafeTemporaryAllocation(of: Float.self, capacity: q.count) { squares in
        for i in 0..<q.count { squares[i] = roundBF16(q[i] * q[i]) }
        return roundBF16(mean32(UnsafeBufferPointer(squares)))
    }
    let r = roundBF16(rsqrt32(roundBF16(ms + eps)))
    for i in 0..<q.count { q[i] = roundBF16(q[i] * r) }
}

/// Walsh–Hadamard transform (Sylvester order) of one vector: exact in Double, rounded to Float,
/// times fp32(n^-0.5), rounded to bf16 — `fast_hadamard_transform(x, scale=n^-0.5)` on bf16 input.
func hadamardBF16(_ v: UnsafeMutableBufferPointer<Float>) {
    let n = v.count
    var d = v.map(Double.init)
    var h = 1
    while h < n {
        for i in stride(from: 0, to: n, by: 2 * h) {
            for j in i..<(i + h) {
                let a = d[j], b = d[j + h]
                d[j] = a + b
                d[j + h] = a - b
            }
        }
        h *= 2
    }
    let scale = Float(pow(Double(n), -0.5))
    for i in 0..<n { v[i] = roundBF16(Float(d[i]) * scale) }
}

/// Indices of the k largest scores in descending order; ties go to the lower index (the oracle's
/// fixed choice for torch.topk's unspecified tie order).
func topKDescending(_ scores: [Float], _ k: Int) -> [Int] {
    Array(scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(k))
}
