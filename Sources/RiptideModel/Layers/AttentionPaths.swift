import RiptideKernels

/// The two execution paths of the reference (spec §8, §11.1.3): prefill with its index-list
/// layout, and token-by-token decode, which extend (S > 1 at start > 0) also follows.
extension Attention {
    /// Prefill of positions 0..<S: every query attends its window and the compressed entries
    /// visible to it; initialises the ring and the compressor states for decode.
    func prefill(_ c: SegmentContext, state: AttentionState, into o: inout [Float]) {
        let s = c.rows.count, d = headDim, base = c.rows.lowerBound
        let windowSlots = min(s, window)
        var lists = (0..<s).map { t in (0..<windowSlots).map { i -> Int in
            let p = max(0, t - window + 1) + i
            return p <= t ? p : -1
        } }
        var table = Array(c.kv[(base * d)..<((base + s) * d)])  // [S + compressed, d]
        if let compressor, let comp = c.compressed, let st = state.compressor {
            let w = compressor.width
            var indexQueries: (q: [Float], weights: [Float])?
            if let indexer, let ix = c.indexed, let ist = state.indexer {
                let iw = indexer.compressor.width
                indexer.compressor.prefill(kv: Array(ix.keys.kv[(base * iw)..<((base + s) * iw)]),
                                           score: Array(ix.keys.score[(base * iw)..<((base + s) * iw)]), count: s, state: ist)
                indexQueries = ix.queries
            }
            compressor.prefill(kv: Array(comp.kv[(base * w)..<((base + s) * w)]),
                               score: Array(comp.score[(base * w)..<((base + s) * w)]), count: s, state: st)
            table += st.entries.floats
            let blocks = s / ratio
            if let indexer, let iq = indexQueries, let ist = state.indexer {
                // Top-k of the blocks visible to each query; the fast scores run a query per task.
                let k = min(indexer.topK, blocks), keys = ist.entries.floats
                var chosen = [[Int]](repeating: [], count: s)
                chosen.withUnsafeMutableBufferPointer { buffer in
                    let cp = buffer  // distinct elements per task
                    let select = { (t: Int) in
                        let visible = (t + 1) / ratio, row = base + t
                        var scores = [Float](repeating: -.infinity, count: blocks)
                        let visibleScores = indexer.scores(query: iq.q[(row * indexer.heads * indexer.headDim)..<((row + 1) * indexer.heads * indexer.headDim)],
                                                           weights: iq.weights[(row * indexer.heads)..<((row + 1) * indexer.heads)],
                                                           keys: keys, count: visible)
                        scores.replaceSubrange(0..<visible, with: visibleScores)
                        cp[t] = topKDescending(scores, k).map { $0 < visible ? s + $0 : -1 }
                    }
                    guard k > 0 else { return }
                    if indexer.fastScores { WorkerPool.shared.parallelFor(s) { t, _ in select(t) } } else { for t in 0..<s { select(t) } }
                }
                for t in 0..<s { lists[t] += chosen[t] }
            } else {
                for t in 0..<s { lists[t] += (0..<blocks).map { $0 < (t + 1) / ratio ? s + $0 : -1 } }
            }
        }
        for p in max(0, s - window)..<s { state.writeRing(c.kv[((base + p) * d)..<((base + p + 1) * d)], position: p, dim: d) }
        attend(c, lists: lists, table: table, into: &o)
    }

    /// Decode semantics for each new token in order: ring write, indexer-compressor step and
    /// top-k, main compressor step, attention over ring ∪ compressed entries. The fp32 table is
    /// built once per call: the ring, then the current token's selected entries.
    func incremental(_ c: SegmentContext, start: Int, state: AttentionState, into o: inout [Float]) {
        let d = headDim, base = c.rows.lowerBound, last = start + c.rows.count - 1
        let mostSelected = compressor == nil ? 0 : indexer.map { min($0.topK, (last + 1) / 4) } ?? (last + 1) / ratio
        var table = [Float](repeating: 0, count: (window + mostSelected) * d)  // [window + selected, d]
        table.withUnsafeMutableBufferPointer { state.decodeRing(into: $0.baseAddress!) }
        // The indexer's keys as fp32 [count, indexHeadDim], extended as its compressor finishes entries.
        var indexKeys = state.indexer?.entries.floats ?? []
        for i in 0..<c.rows.count {
            let t = start + i, row = base + i
            let kvRow = c.kv[(row * d)..<((row + 1) * d)]
            state.writeRing(kvRow, position: t, dim: d)
            table.replaceSubrange(((t % window) * d)..<((t % window + 1) * d), with: kvRow)
            var list = t >= window - 1
                ? (0..<window).map { (t % window + 1 + $0) % window }
                : Array(0...t) + Array(repeating: -1, count: window - t - 1)
            if let compressor, let comp = c.compressed, let st = state.compressor {
                var selected: [Int]
                if let indexer, let ix = c.indexed, let ist = state.indexer {
                    let iw = indexer.compressor.width
                    if let key = indexer.compressor.step(kv: ix.keys.kv[(row * iw)..<((row + 1) * iw)], score: ix.keys.score[(row * iw)..<((row + 1) * iw)],
                                                         position: t, state: ist) {
                        indexKeys += key
                    }
                    let visible = (t + 1) / 4
                    let scores = indexer.scores(query: ix.queries.q[(row * indexer.heads * indexer.headDim)..<((row + 1) * indexer.heads * indexer.headDim)],
                                                weights: ix.queries.weights[(row * indexer.heads)..<((row + 1) * indexer.heads)],
                                                keys: indexKeys, count: visible)
                    selected = topKDescending(scores, min(indexer.topK, visible))
                } else {
                    selected = Array(0..<((t + 1) / ratio))
                }
                let w = compressor.width
                compressor.step(kv: comp.kv[(row * w)..<((row + 1) * w)], score: comp.score[(row * w)..<((row + 1) * w)], position: t, state: st)
                // Only the selected entries join the table: copying all of them would cost O(context) per token.
                list += selected.indices.map { window + $0 }
                table.withUnsafeMutableBufferPointer { tp in
                    for (j, e) in selected.enumerated() { st.entries.decode(e, into: tp.baseAddress! + (window + j) * d) }
                }
            }
            attend(c, lists: [list], table: table, firstRow: i, into: &o)
        }
    }

    /// Runs the sparse attention core for consecutive rows of the segment starting at `firstRow`.
    private func attend(_ c: SegmentContext, lists: [[Int]], table: [Float], firstRow: Int = 0, into o: inout [Float]) {
        let d = headDim, stride = heads * d, first = c.rows.lowerBound + firstRow
        if fastAttention {
            // One call for all rows; shorter lists are padded with empty slots (same result).
            let n = lists.map(\.count).max() ?? 0
            var indices = [Int32](repeating: -1, count: lists.count * n)
            for (k, list) in lists.enumerated() { for (i, e) in list.enumerated() { indices[k * n + i] = Int32(e) } }
            c.q.withUnsafeBufferPointer { qp in table.withUnsafeBufferPointer { tp in o.withUnsafeMutableBufferPointer { op in
                SparseAttentionKernel.run(q: qp.baseAddress! + first * stride, rows: lists.count, heads: heads, dim: d,
                                          table: tp.baseAddress!, indices: indices, listLength: n, sink: sink, scale: softmaxScale,
                                          out: op.baseAddress! + first * stride)
            } } }
            return
        }
        c.q.withUnsafeBufferPointer { qp in table.withUnsafeBufferPointer { tp in o.withUnsafeMutableBufferPointer { op in
            for (k, list) in lists.enumerated() {
                let row = first + k
                sparseAttention(q: UnsafeBufferPointer(rebasing: qp[(row * stride)..<((row + 1) * stride)]), heads: heads, dim: d,
                                table: tp, indices: list, sink: sink, scale: softmaxScale,
                                into: UnsafeMutableBufferPointer(rebasing: op[(row * stride)..<((row + 1) * stride)]))
            }
        } } }
    }
}
