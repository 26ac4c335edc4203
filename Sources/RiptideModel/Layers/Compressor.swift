import Foundation
import RiptideKernels

/// Token-wise KV compressor (spec §4.4): gated softmax pooling of `ratio` tokens per entry (8
/// overlapping ones for ratio 4), then RMSNorm → RoPE at the block's first position → FP8-sim of
/// the nope dims (main) or Hadamard + FP4-sim (the indexer's compressor).
struct Compressor {
    let ratio: Int
    let dim: Int                 // entry width d (head_dim, or index_head_dim for the indexer)
    let ropeDim: Int
    let rotate: Bool             // indexer: Hadamard + FP4-sim instead of FP8-sim
    let wkv: WeightMatrix        // [c·d, D] bf16, used in fp32
    let wgate: WeightMatrix      // [c·d, D]
    let ape: [Float]             // [ratio, c·d]
    let norm: [Float]            // [d]
    let rope: RoPE
    let eps: Float
    /// The AVX-512 pooling and Hadamard kernels instead of the plain twins (fast kernels on a capable CPU).
    let fastKernels: Bool

    var overlap: Bool { ratio == 4 }
    var width: Int { (overlap ? 2 : 1) * dim }  // c·d

    init(_ w: WeightLoader, prefix p: String, ratio: Int, dim: Int, rotate: Bool, rope: RoPE) throws {
        self.ratio = ratio
        self.dim = dim
        self.ropeDim = w.config.ropeHeadDim
        self.rotate = rotate
        wkv = try w.matrix(p + "wkv.weight")
        wgate = try w.matrix(p + "wgate.weight")
        ape = try w.floats(p + "ape")
        norm = try w.floats(p + "norm.weight")
        self.rope = rope
        eps = Float(w.config.normEps)
        fastKernels = w.kernels == .fast && CompressorKernels.isAvailable && dim >= 16 && dim & (dim - 1) == 0
    }

    /// kv and score (without ape) for rows x [T, D], fp32: [T, c·d] each.
    func project(_ x: [Float], count t: Int) -> (kv: [Float], score: [Float]) {
        (wkv.apply(x, count: t), wgate.apply(x, count: t))
    }

    /// Per channel: softmax of the scores over `rows` rows, then Σ w·kv. Rows with score −inf drop out.
    func pool(kv: [Float], score: [Float], rows: Int) -> [Float] {
        var out = [Float](repeating: 0, count: dim)
        if fastKernels {
            CompressorKernels.softmaxPool(kv: kv, score: score, rows: rows, dim: dim, into: &out)
        } else {
            softmaxPool(kv: kv, score: score, rows: rows, into: &out)
        }
        return out
    }

    /// The rows pooled for one block, from the previous block's and the current block's rows
    /// (each [ratio, c·d], scores including ape): overlap takes the A halves of the previous block
    /// and the B halves of the current one; otherwise just the current rows.
    func poolBlock(previousKV: ArraySlice<Float>, previousScore: ArraySlice<Float>,
                   currentKV: ArraySlice<Float>, currentScore: ArraySlice<Float>) -> [Float] {
        guard overlap else { return pool(kv: Array(currentKV), score: Array(currentScore), rows: ratio) }
        var kv = [Float](), score = [Float]()
        kv.reserveCapacity(2 * ratio * dim)
        score.reserveCapacity(2 * ratio * dim)
        let w = width
        for r in 0..<ratio {
            kv += previousKV[(previousKV.startIndex + r * w)..<(previousKV.startIndex + r * w + dim)]
            score += previousScore[(previousScore.startIndex + r * w)..<(previousScore.startIndex + r * w + dim)]
        }
        for r in 0..<ratio {
            kv += currentKV[(currentKV.startIndex + r * w + dim)..<(currentKV.startIndex + (r + 1) * w)]
            score += currentScore[(currentScore.startIndex + r * w + dim)..<(currentScore.startIndex + (r + 1) * w)]
        }
        return pool(kv: kv, score: score, rows: 2 * ratio)
    }

    /// bf16(H·v · dim^-0.5) for each `dim`-long row of v.
    func hadamard(_ v: UnsafeMutableBufferPointer<Float>) {
        if fastKernels {
            CompressorKernels.hadamardBF16(v, rowLength: dim, scale: Float(pow(Double(dim), -0.5)))
        } else {
            for r in 0..<(v.count / dim) { hadamardBF16(UnsafeMutableBufferPointer(rebasing: v[(r * dim)..<((r + 1) * dim)])) }
        }
    }

    /// Post-processing of a pooled entry whose block starts at `position`.
    func finish(_ pooled: [Float], position: Int) -> [Float] {
        var e = pooled.map(roundBF16)
        e.withUnsafeMutableBufferPointer { p in
            rmsNorm(p, weight: norm, eps: eps)
            rope.apply(p, rope.cosSin(position: position))
            if rotate {
                hadamard(p)
                simulateFP4(p, block: 32)
            } else {
                simulateFP8(UnsafeMutableBufferPointer(rebasing: p[0..<(dim - ropeDim)]), block: 64)
            }
        }
        return e
    }

    /// Prefill of positions 0..<S from their projections: finishes every complete block into
    /// `state.entries` and leaves the decode state as §4.4 describes.
    func prefill(kv: [Float], score rawScore: [Float], count s: Int, state: CompressorState) {
        let r = ratio, w = width
        let blocks = s / r, cutoff = blocks * r, remainder = s % r
        var score = rawScore
        for t in 0..<s { for ch in 0..<w { score[t * w + ch] = rawScore[t * w + ch] + ape[(t % r) * w + ch] } }
        let emptyKV = [Float](repeating: 0, count: r * w)[...], emptyScore = [Float](repeating: -.infinity, count: r * w)[...]
        var entries = [Float](repeating: 0, count: blocks * dim)  // [blocks, dim]
        entries.withUnsafeMutableBufferPointer { buffer in
            let out = buffer  // each block writes its own row
            let block = { (j: Int) in
                let cur = (j * r * w)..<((j + 1) * r * w)
                let prev = j > 0 ? ((j - 1) * r * w)..<(j * r * w) : nil
                let pooled = poolBlock(previousKV: prev.map { kv[$0] } ?? emptyKV, previousScore: prev.map { score[$0] } ?? emptyScore,
                                       currentKV: kv[cur], currentScore: score[cur])
                for (c, v) in finish(pooled, position: j * r).enumerated() { out[j * dim + c] = v }
            }
            if fastKernels { WorkerPool.shared.parallelFor(blocks) { j, _ in block(j) } } else { for j in 0..<blocks { block(j) } }
        }
        state.entries = EntryStore(dim: dim)
        for j in 0..<blocks { state.entries.append(entries[(j * dim)..<((j + 1) * dim)]) }
        let offset = overlap ? r : 0
        if overlap && cutoff >= r {
            state.kv.replaceSubrange(0..<(r * w), with: kv[((cutoff - r) * w)..<(cutoff * w)])
            state.score.replaceSubrange(0..<(r * w), with: score[((cutoff - r) * w)..<(cutoff * w)])
        }
        if remainder > 0 {
            state.kv.replaceSubrange((offset * w)..<((offset + remainder) * w), with: kv[(cutoff * w)...])
            state.score.replaceSubrange((offset * w)..<((offset + remainder) * w), with: score[(cutoff * w)...])
        }
    }

    /// Decode step for position t from its projections (rows without ape). Finishes block
    /// (t+1)/ratio − 1 when t closes it; that entry is visible to token t itself, and is returned.
    @discardableResult
    func step(kv: ArraySlice<Float>, score: ArraySlice<Float>, position t: Int, state: CompressorState) -> [Float]? {
        let r = ratio, w = width
        let row = overlap ? r + t % r : t % r
        for ch in 0..<w {
            state.kv[row * w + ch] = kv[kv.startIndex + ch]
            state.score[row * w + ch] = score[score.startIndex + ch] + ape[(t % r) * w + ch]
        }
        guard (t + 1) % r == 0 else { return nil }
        let pooled: [Float]
        if overlap {
            pooled = poolBlock(previousKV: state.kv[0..<(r * w)], previousScore: state.score[0..<(r * w)],
                               currentKV: state.kv[(r * w)...], currentScore: state.score[(r * w)...])
            state.kv.replaceSubrange(0..<(r * w), with: state.kv[(r * w)...])
            state.score.replaceSubrange(0..<(r * w), with: state.score[(r * w)...])
        } else {
            pooled = poolBlock(previousKV: [], previousScore: [], currentKV: state.kv[...], currentScore: state.score[...])
        }
        precondition(state.count == (t + 1) / r - 1, "compressor state out of step")
        let entry = finish(pooled, position: t + 1 - r)
        state.entries.append(entry)
        return entry
    }
}

/// The plain twin of the pooling (spec §4.4): per channel c of kv, score [rows, out.count],
/// out[c] = Σ_r kv[r,c]·(e_r / Σe) with e_r = exp(score[r,c] − max), sums in Double.
func softmaxPool(kv: [Float], score: [Float], rows: Int, into out: inout [Float]) {
    let dim = out.count
    var e = [Float](repeating: 0, count: rows)
    for ch in 0..<dim {
        var m = -Float.infinity
        for r in 0..<rows { m = max(m, score[r * dim + ch]) }
        var s = 0.0
        for r in 0..<rows { e[r] = exp32(score[r * dim + ch] - m); s += Double(e[r]) }
        let total = Float(s)
        var acc = 0.0
        for r in 0..<rows { acc += Double(kv[r * dim + ch] * (e[r] / total)) }
        out[ch] = Float(acc)
    }
}
