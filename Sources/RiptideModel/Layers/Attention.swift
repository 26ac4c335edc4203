import Foundation
import RiptideKernels

/// The rows of one sequence inside a batched forward call.
struct Segment {
    let rows: Range<Int>        // rows of the flattened batch
    let startPosition: Int
    /// true: token-by-token decode semantics (decode and extend); false: the prefill path.
    let incremental: Bool
}

/// Sparse MLA attention of one layer (spec §4): query and window-KV path, compressor, indexer,
/// sparse attention with sink, inverse RoPE and the grouped low-rank output.
struct Attention {
    let config: ModelConfig
    let ratio: Int
    let heads: Int, headDim: Int, ropeDim: Int, window: Int, groups: Int, groupRank: Int
    let wqA: WeightMatrix, qNorm: [Float], wqB: WeightMatrix
    let wkv: WeightMatrix, kvNorm: [Float]
    let woA: [WeightMatrix]     // per group: bf16 values [rank, heads·d/groups]
    let woB: WeightMatrix
    let sink: [Float]
    let rope: RoPE
    let compressor: Compressor?
    let indexer: Indexer?
    let eps: Float
    let softmaxScale: Float
    /// The C attention kernel (AVX-512 or AVX2) instead of the plain twin (fast kernels).
    let fastAttention: Bool

    init(_ w: WeightLoader, prefix p: String, layer: Int) throws {
        let c = w.config
        config = c
        ratio = c.compressRatios[layer]
        heads = c.nHeads; headDim = c.headDim; ropeDim = c.ropeHeadDim; window = c.windowSize
        groups = c.oGroups; groupRank = c.oLoraRank
        rope = RoPE(config: c, compressed: ratio > 0)
        wqA = try w.fp8Weight(p + "wq_a"); qNorm = try w.floats(p + "q_norm.weight")
        wqB = try w.fp8Weight(p + "wq_b")
        wkv = try w.fp8Weight(p + "wkv"); kvNorm = try w.floats(p + "kv_norm.weight")
        woA = try w.groups(of: try w.fp8WeightAsBF16(p + "wo_a"), count: c.oGroups, name: p + "wo_a")
        woB = try w.fp8Weight(p + "wo_b")
        sink = try w.floats(p + "attn_sink")
        compressor = ratio > 0 ? try Compressor(w, prefix: p + "compressor.", ratio: ratio, dim: headDim, rotate: false, rope: rope) : nil
        indexer = ratio == 4 ? try Indexer(w, prefix: p + "indexer.", rope: rope) : nil
        eps = Float(c.normEps)
        softmaxScale = Float(pow(Double(headDim), -0.5))
        fastAttention = w.kernels == .fast && SparseAttentionKernel.isAvailable && headDim % 64 == 0
    }

    /// x [T, D] (normed, bf16) → [T, D]. `positions[i]` is row i's position in its sequence.
    func forward(_ x: [Float], positions: [Int], segments: [Segment], states: [AttentionState]) -> [Float] {
        let t = positions.count, d = headDim
        // §4.3 query and window-KV path, row-wise over the whole batch.
        var qr = quantizedLinear(wqA, x, count: t)
        rmsNormRows(&qr, width: config.qLoraRank, weight: qNorm, eps: eps)
        var q = quantizedLinear(wqB, qr, count: t)
        var kv = quantizedLinear(wkv, x, count: t)
        rmsNormRows(&kv, width: d, weight: kvNorm, eps: eps)
        q.withUnsafeMutableBufferPointer { qp in kv.withUnsafeMutableBufferPointer { kp in
            forEachRow(t, chunk: 4) { i in
                let table = rope.cosSin(position: positions[i])
                for h in 0..<heads {
                    let head = UnsafeMutableBufferPointer(rebasing: qp[((i * heads + h) * d)..<((i * heads + h + 1) * d)])
                    qHeadNorm(head, eps: eps)
                    rope.apply(head, table)
                }
                let row = UnsafeMutableBufferPointer(rebasing: kp[(i * d)..<((i + 1) * d)])
                rope.apply(row, table)
                simulateFP8(UnsafeMutableBufferPointer(rebasing: row[0..<(d - ropeDim)]), block: 64)
            }
        } }
        let compressed = compressor.map { $0.project(x, count: t) }
        let indexed = indexer.map { ix in (queries: ix.queries(x: x, qr: qr, positions: positions), keys: ix.compressor.project(x, count: t)) }

        var o = [Float](repeating: 0, count: t * heads * d)
        for (segment, state) in zip(segments, states) {
            let context = SegmentContext(q: q, kv: kv, compressed: compressed, indexed: indexed, rows: segment.rows)
            if segment.incremental {
                incremental(context, start: segment.startPosition, state: state, into: &o)
            } else {
                precondition(segment.startPosition == 0, "the prefill path starts at position 0")
                prefill(context, state: state, into: &o)
            }
        }
        return output(&o, positions: positions)
    }

    /// The batch-wide projections, viewed for one segment.
    struct SegmentContext {
        let q: [Float], kv: [Float]
        let compressed: (kv: [Float], score: [Float])?
        let indexed: (queries: (q: [Float], weights: [Float]), keys: (kv: [Float], score: [Float]))?
        let rows: Range<Int>
    }

    /// §4.8: inverse RoPE with the query position, grouped wo_a (bf16 einsum), then wo_b.
    private func output(_ o: inout [Float], positions: [Int]) -> [Float] {
        let t = positions.count, d = headDim, groupWidth = heads * d / groups
        o.withUnsafeMutableBufferPointer { op in
            forEachRow(t, chunk: 4) { i in
                let table = rope.cosSin(position: positions[i])
                for h in 0..<heads {
                    rope.apply(UnsafeMutableBufferPointer(rebasing: op[((i * heads + h) * d)..<((i * heads + h + 1) * d)]), table, inverse: true)
                }
            }
        }
        var z = [Float](repeating: 0, count: t * groups * groupRank)  // [T, groups·rank]
        for g in 0..<groups {
            var input = [Float](); input.reserveCapacity(t * groupWidth)  // [T, groupWidth]: group g of every row
            for i in 0..<t {
                let start: Int = i * heads * d + g * groupWidth
                input += o[start..<(start + groupWidth)]
            }
            let zg = woA[g].apply(input, count: t)
            for i in 0..<t { for r in 0..<groupRank { z[(i * groups + g) * groupRank + r] = roundBF16(zg[i * groupRank + r]) } }
        }
        return quantizedLinear(woB, z, count: t)
    }
}
