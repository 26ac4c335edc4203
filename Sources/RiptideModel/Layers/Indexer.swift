import Foundation
import RiptideKernels

/// Lightning indexer of ratio-4 layers (spec §4.5, §11.1.2): scores the finished compressed
/// blocks for each query and keeps the top-k.
struct Indexer {
    let heads: Int, headDim: Int, topK: Int
    let wqB: WeightMatrix          // FP8 [heads·headDim, q_lora_rank]
    let weightsProj: WeightMatrix  // bf16 [heads, D]
    let compressor: Compressor
    let rope: RoPE
    let weightScale: Float         // fp32(head_dim^-0.5 · heads^-0.5)
    /// The C score kernel (AVX-512 or AVX2) instead of the plain twin (fast kernels).
    let fastScores: Bool

    init(_ w: WeightLoader, prefix p: String, rope: RoPE) throws {
        let c = w.config
        heads = c.indexNHeads
        headDim = c.indexHeadDim
        topK = c.indexTopK
        wqB = try w.fp8Weight(p + "wq_b")
        weightsProj = try w.matrix(p + "weights_proj.weight")
        compressor = try Compressor(w, prefix: p + "compressor.", ratio: 4, dim: headDim, rotate: true, rope: rope)
        self.rope = rope
        weightScale = Float(pow(Double(headDim), -0.5) * pow(Double(heads), -0.5))
        fastScores = w.kernels == .fast && IndexerScoreKernel.isAvailable && headDim % 32 == 0 && headDim <= 1024
    }

    /// Queries [T, heads, headDim] (RoPE → Hadamard → FP4-sim) and head weights [T, heads] (bf16).
    func queries(x: [Float], qr: [Float], positions: [Int]) -> (q: [Float], weights: [Float]) {
        let t = positions.count
        var q = quantizedLinear(wqB, qr, count: t)
        q.withUnsafeMutableBufferPointer { p in
            forEachRow(t, chunk: 4) { i in
                let table = rope.cosSin(position: positions[i])
                for h in 0..<heads { rope.apply(UnsafeMutableBufferPointer(rebasing: p[((i * heads + h) * headDim)..<((i * heads + h + 1) * headDim)]), table) }
            }
            compressor.hadamard(p)
            forEachRow(t * heads, chunk: 64) { r in simulateFP4(UnsafeMutableBufferPointer(rebasing: p[(r * headDim)..<((r + 1) * headDim)]), block: 32) }
        }
        let weights = bf16Linear(weightsProj, x, count: t).map { roundBF16($0 * weightScale) }
        return (q, weights)
    }

    /// Score of one query against `count` keys [count, headDim]: bf16(Σ_h bf16(relu(bf16(q_h·K))·w_h)).
    func scores(query q: ArraySlice<Float>, weights w: ArraySlice<Float>, keys: [Float], count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        if fastScores && count > 0 {
            q.withUnsafeBufferPointer { qp in w.withUnsafeBufferPointer { wp in keys.withUnsafeBufferPointer { kp in
                IndexerScoreKernel.run(q: qp.baseAddress!, heads: heads, headDim: headDim, weights: wp.baseAddress!,
                                       keys: kp.baseAddress!, count: count, out: &out)
            } } }
            return out
        }
        q.withUnsafeBufferPointer { qp in w.withUnsafeBufferPointer { wp in keys.withUnsafeBufferPointer { kp in
            out.withUnsafeMutableBufferPointer { op in
                indexerScores(q: qp.baseAddress!, weights: wp.baseAddress!, heads: heads, headDim: headDim, keys: kp, into: op)
            }
        } } }
        return out
    }
}

/// The plain twin of the indexer score: out[j] = bf16(Σ_h bf16(relu(bf16(q_h·k_j))·w_h)), dots and
/// the head sum in Double (spec §4.5, §11.1.2). q [heads, headDim], keys [out.count, headDim].
func indexerScores(q: UnsafePointer<Float>, weights w: UnsafePointer<Float>, heads: Int, headDim: Int,
                   keys: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>) {
    for j in 0..<out.count {
        var acc = 0.0
        for h in 0..<heads {
            let dot = roundBF16(dotDouble(q + h * headDim, keys.baseAddress! + j * headDim, headDim))
            acc += Double(roundBF16(max(dot, 0) * w[h]))
        }
        out[j] = roundBF16(Float(acc))
    }
}
