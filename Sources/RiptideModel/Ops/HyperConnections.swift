import RiptideKernels

/// One mHC site's parameters (spec §3): `fn` [mix, hc·D], `scale` [3] (or [1] for the head),
/// `base` [mix], with mix = (2 + hc)·hc for blocks and hc for the head.
struct HyperConnection {
    let fn: WeightMatrix
    let scale: [Float]
    let base: [Float]
}

/// Mixing and Sinkhorn for the streams of one token. `streams` is [hc, D] (bf16 values).
struct HyperConnectionMath {
    let hc: Int
    let dim: Int
    let normEps: Float
    let hcEps: Float
    let sinkhornIters: Int

    /// mix = (xf · fnᵀ) · rsqrt(mean(xf²) + norm_eps) — norm_eps, not hc_eps (spec §10).
    func mix(_ streams: UnsafeBufferPointer<Float>, _ fn: WeightMatrix) -> [Float] {
        let r = mixScale(streams)
        return fn.apply(Array(streams), count: 1).map { $0 * r }
    }

    /// rsqrt(mean(xf²) + norm_eps) of one token's streams.
    func mixScale(_ streams: UnsafeBufferPointer<Float>) -> Float {
        var squares = [Float](repeating: 0, count: streams.count)
        for i in 0..<streams.count { squares[i] = streams[i] * streams[i] }
        return rsqrt32(squares.withUnsafeBufferPointer(mean32) + normEps)
    }

    /// Split into pre [hc], post [hc] and comb [hc, hc] (comb[j, k]: stream j → k). All fp32,
    /// normalisations by plain division (spec §11.1.4).
    func splitSinkhorn(_ mix: [Float], scale: [Float], base: [Float]) -> (pre: [Float], post: [Float], comb: [Float]) {
        let pre = (0..<hc).map { sigmoid32(mix[$0] * scale[0] + base[$0]) + hcEps }
        let post = (0..<hc).map { 2 * sigmoid32(mix[hc + $0] * scale[1] + base[hc + $0]) }
        var c = (0..<(hc * hc)).map { mix[2 * hc + $0] * scale[2] + base[2 * hc + $0] }
        for j in 0..<hc {  // row softmax, then + eps
            let row = j * hc
            let m = c[row..<(row + hc)].max()!
            for k in 0..<hc { c[row + k] = exp32(c[row + k] - m) }
            let s = rowSum(c, j)
            for k in 0..<hc { c[row + k] = c[row + k] / s + hcEps }
        }
        normalizeColumns(&c)
        for _ in 1..<sinkhornIters {
            for j in 0..<hc {
                let s = rowSum(c, j) + hcEps
                for k in 0..<hc { c[j * hc + k] /= s }
            }
            normalizeColumns(&c)
        }
        return (pre, post, c)
    }

    private func rowSum(_ c: [Float], _ j: Int) -> Float {
        var acc = 0.0
        for k in 0..<hc { acc += Double(c[j * hc + k]) }
        return Float(acc)
    }

    private func normalizeColumns(_ c: inout [Float]) {
        for k in 0..<hc {
            var acc = 0.0
            for j in 0..<hc { acc += Double(c[j * hc + k]) }
            let s = Float(acc) + hcEps
            for j in 0..<hc { c[j * hc + k] /= s }
        }
    }

    /// bf16(Σ_j w[j]·x_j), products and sums in fp32 in stream order.
    func weightedSum(_ w: [Float], _ streams: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>) {
        for i in 0..<dim {
            var acc = w[0] * streams[i]
            for j in 1..<hc { acc = acc + w[j] * streams[j * dim + i] }
            out[i] = roundBF16(acc)
        }
    }

    /// hc_post: out[k] = bf16(post[k]·f + Σ_j comb[j,k]·res[j]), the sum in order j = 0..hc−1.
    func post(_ f: UnsafeBufferPointer<Float>, residual res: UnsafeBufferPointer<Float>, post: [Float], comb: [Float],
              into out: UnsafeMutableBufferPointer<Float>) {
        for k in 0..<hc {
            for i in 0..<dim {
                var acc = comb[k] * res[i]
                for j in 1..<hc { acc = acc + comb[j * hc + k] * res[j * dim + i] }
                out[k * dim + i] = roundBF16(post[k] * f[i] + acc)
            }
        }
    }

    /// hc_head: pre = sigmoid(mix·scale + base) + hc_eps, y = Σ pre_j·x_j (bf16). No Sinkhorn.
    func head(_ streams: UnsafeBufferPointer<Float>, _ p: HyperConnection, into out: UnsafeMutableBufferPointer<Float>) {
        let m = mix(streams, p.fn)
        let pre = (0..<hc).map { sigmoid32(m[$0] * p.scale[0] + p.base[$0]) + hcEps }
        weightedSum(pre, streams, into: out)
    }
}
