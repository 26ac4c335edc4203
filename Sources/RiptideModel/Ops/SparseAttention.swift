import RiptideKernels

/// Sparse attention of one query position over an index list (spec §4.7, §11.1.3), as the
/// reference kernel computes it: online softmax over 64-entry blocks of the list; scores fp32
/// (dot, then ·scale); P rounded to bf16 against the running max before P·V; accumulators
/// rescaled in fp32; the per-head sink only in the denominator. `-1` entries are empty slots.
///
/// - q: [H, d] bf16 values; table: [N, d] KV rows (K = V); sink: [H]. Writes o [H, d] (bf16).
func sparseAttention(q: UnsafeBufferPointer<Float>, heads: Int, dim d: Int, table: UnsafeBufferPointer<Float>,
                     indices: [Int], sink: [Float], scale: Float, into out: UnsafeMutableBufferPointer<Float>) {
    let block = 64
    var acc = [Double](repeating: 0, count: d)
    var scores = [Float](repeating: 0, count: block), p = scores
    for h in 0..<heads {
        let qh = q.baseAddress! + h * d
        var m = -Float.infinity, denominator: Float = 0
        var accumulator = [Float](repeating: 0, count: d)
        for b0 in stride(from: 0, to: indices.count, by: block) {
            let slots = indices[b0..<min(b0 + block, indices.count)]
            guard slots.contains(where: { $0 >= 0 }) else { continue }  // empty block: nothing changes
            var blockMax = -Float.infinity
            for (i, slot) in slots.enumerated() {
                scores[i] = slot >= 0 ? dotDouble(qh, table.baseAddress! + slot * d, d) * scale : -.infinity
                blockMax = max(blockMax, scores[i])
            }
            let mNew = max(m, blockMax)
            let alpha = exp32(m - mNew)  // 0 on the first block
            var pSum = 0.0
            for i in 0..<slots.count {
                p[i] = exp32(scores[i] - mNew)
                pSum += Double(p[i])
            }
            denominator = denominator * alpha + Float(pSum)
            for k in 0..<d { acc[k] = 0 }
            for (i, slot) in slots.enumerated() where slot >= 0 {
                let pb = Double(roundBF16(p[i]))
                let row = table.baseAddress! + slot * d
                for k in 0..<d { acc[k] += pb * Double(row[k]) }
            }
            for k in 0..<d { accumulator[k] = Float(Double(accumulator[k] * alpha) + acc[k]) }
            m = mNew
        }
        denominator = denominator + exp32(sink[h] - m)
        for k in 0..<d { out[h * d + k] = roundBF16(accumulator[k] / denominator) }
    }
}
