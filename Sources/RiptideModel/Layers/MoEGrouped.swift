import RiptideKernels

extension MoE {
    /// Tokens per pass of the grouped path: bounds its buffers (gathered rows [t·k, D] and the
    /// intermediates) at a prefill step of thousands of tokens.
    static let groupedChunkTokens = 512

    /// `forward` on packed weights, the same bits: every expert's w1 and w3 run as one pool job over
    /// the gathered rows of all experts (the shared expert's rows, all tokens, ride along), then every
    /// w2 as another. Rows keep their per-expert kernels and the combine keeps its order (ascending
    /// expert id, shared last), so batch invariance holds.
    func groupedForward(_ x: [Float], tokens t: Int, weights: [Float], ids: [Int], trace: ModelTrace?) -> [Float] {
        let dim = config.dim, k = config.nActivatedExperts
        var y = [Float](repeating: 0, count: t * dim)   // [t, D] fp32 sums
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
            for t0 in stride(from: 0, to: t, by: Self.groupedChunkTokens) {
                let n = min(Self.groupedChunkTokens, t - t0), slots = (t0 * k)..<((t0 + n) * k)
                groupedChunk(xp.baseAddress! + t0 * dim, tokens: n, weights: Array(weights[slots]), ids: Array(ids[slots]),
                             into: yp.baseAddress! + t0 * dim, trace: trace)
            }
        } }
        return y.map(roundBF16)
    }

    /// Tokens x [t, D] with their routes (weights, ids [t, k]) → y [t, D] += the routed outputs in
    /// ascending expert id, then the shared expert's.
    private func groupedChunk(_ x: UnsafePointer<Float>, tokens t: Int, weights: [Float], ids: [Int],
                              into y: UnsafeMutablePointer<Float>, trace: ModelTrace?) {
        let k = config.nActivatedExperts, dim = config.dim
        // Routed rows, grouped by ascending expert: token index and route weight of each.
        // One pass buckets the (token, slot) pairs by expert, tokens ascending within each.
        var buckets = [[Int]](repeating: [], count: experts.count)   // slot indices i·k + s
        for j in 0..<(t * k) { buckets[ids[j]].append(j) }
        var order: [(expert: Int, first: Int, count: Int)] = []
        var rowToken: [Int] = [], rowWeight: [Float] = []
        for (e, slots) in buckets.enumerated() where !slots.isEmpty {
            order.append((e, rowToken.count, slots.count))
            for j in slots { rowToken.append(j / k); rowWeight.append(weights[j]) }
        }
        let routed = rowToken.count, sharedRows = shared == nil ? 0 : t
        let inter = experts[0].w1.rows, sharedInter = shared?.w1.rows ?? inter
        let total = routed + sharedRows

        // gathered [total, D]: routed rows, then every token for the shared expert.
        var gathered = [Float](repeating: 0, count: total * dim)
        gathered.withUnsafeMutableBufferPointer { g in
            for (r, i) in rowToken.enumerated() { (g.baseAddress! + r * dim).update(from: x + i * dim, count: dim) }
            if sharedRows > 0 { (g.baseAddress! + routed * dim).update(from: x, count: t * dim) }
        }
        // gate, up: [routed, inter] then [t, sharedInter]; the SwiGLU writes h into gate.
        let hiddenCount = routed * inter + sharedRows * sharedInter
        var gate = [Float](repeating: 0, count: hiddenCount), up = [Float](repeating: 0, count: hiddenCount)
        var out = [Float](repeating: 0, count: total * dim)   // [total, D]
        gathered.withUnsafeBufferPointer { gx in gate.withUnsafeMutableBufferPointer { gp in
        up.withUnsafeMutableBufferPointer { upp in out.withUnsafeMutableBufferPointer { op in
            let g = gp.baseAddress!, u = upp.baseAddress!, o = op.baseAddress!
            var first: [GroupedProduct] = [], second: [GroupedProduct] = []
            for (e, r0, n) in order {
                let ex = experts[e]
                first.append(GroupedProduct(weight: ex.w1.packed!, firstRow: r0, count: n, output: g + r0 * inter))
                first.append(GroupedProduct(weight: ex.w3.packed!, firstRow: r0, count: n, output: u + r0 * inter))
                second.append(GroupedProduct(weight: ex.w2.packed!, firstRow: r0, count: n, output: o + r0 * dim))
            }
            let sharedHidden = routed * inter   // where the shared expert's rows start in gate/up
            if let shared {
                first.append(GroupedProduct(weight: shared.w1.packed!, firstRow: routed, count: t, output: g + sharedHidden))
                first.append(GroupedProduct(weight: shared.w3.packed!, firstRow: routed, count: t, output: u + sharedHidden))
            }
            PackedLinear.applyGrouped(gx.baseAddress!, rows: total, cols: dim, products: first)

            // The SwiGLU (an exp per element) of each expert's rows as a pool task: disjoint rows.
            var clamped = [Int](repeating: 0, count: order.count + 1)
            clamped.withUnsafeMutableBufferPointer { counts in
                let c = counts
                WorkerPool.shared.parallelFor(order.count + 1) { j, _ in
                    if j < order.count {
                        let (e, r0, n) = order[j]
                        c[j] = experts[e].swiGLU(gate: g + r0 * inter, up: u + r0 * inter, rows: n, routeWeights: { rowWeight[r0 + $0] })
                    } else if let shared {
                        c[j] = shared.swiGLU(gate: g + sharedHidden, up: u + sharedHidden, rows: t, routeWeights: nil)
                    }
                }
            }
            trace?.swiGLU(clamped: clamped.reduce(0, +), of: hiddenCount)

            // w2: one block when the shared expert is as wide as the routed ones (V4), else two.
            if let shared {
                let product = GroupedProduct(weight: shared.w2.packed!, firstRow: sharedInter == inter ? routed : 0, count: t, output: o + routed * dim)
                if sharedInter == inter { second.append(product) }
                else { PackedLinear.applyGrouped(g + sharedHidden, rows: t, cols: sharedInter, products: [product]) }
            }
            PackedLinear.applyGrouped(g, rows: sharedInter == inter ? total : routed, cols: inter, products: second)

            for (r, i) in rowToken.enumerated() {   // rows are in ascending expert order already
                let yr = y + i * dim, orow = o + r * dim
                for c in 0..<dim { yr[c] = yr[c] + orow[c] }
            }
            for i in 0..<sharedRows {
                let yr = y + i * dim, orow = o + (routed + i) * dim
                for c in 0..<dim { yr[c] = yr[c] + orow[c] }
            }
        } } } }
    }
}
