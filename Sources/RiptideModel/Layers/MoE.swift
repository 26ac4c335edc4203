import RiptideKernels

/// A SwiGLU expert with the clamp (spec §5): routed experts (FP4) and the shared expert (FP8)
/// share the math; the routing weight is applied before w2.
struct Expert {
    let w1: WeightMatrix, w2: WeightMatrix, w3: WeightMatrix
    let limit: Float

    var isPacked: Bool { w1.packed != nil && w2.packed != nil && w3.packed != nil }

    /// x [n, D] bf16 → bf16 [n, D]; `routeWeights` [n] for routed experts, nil for the shared one.
    func apply(_ x: [Float], count n: Int, routeWeights: [Float]?, trace: ModelTrace? = nil) -> [Float] {
        var g = quantizedLinear(w1, x, count: n)
        let u = quantizedLinear(w3, x, count: n)
        g.withUnsafeMutableBufferPointer { gp in u.withUnsafeBufferPointer { up in
            let clamped = swiGLU(gate: gp.baseAddress!, up: up.baseAddress!, rows: n, routeWeights: routeWeights.map { w in { w[$0] } })
            trace?.swiGLU(clamped: clamped, of: n * w1.rows)
        } }
        return quantizedLinear(w2, g, count: n)
    }

    /// gate [rows, inter] ← bf16(weight(row) · silu(clamped gate) · clamped up), in place; returns
    /// how many elements the clamp changed.
    func swiGLU(gate g: UnsafeMutablePointer<Float>, up u: UnsafePointer<Float>, rows n: Int, routeWeights: ((Int) -> Float)?) -> Int {
        let inter = w1.rows
        var clamped = 0
        for i in 0..<(n * inter) {
            var up = u[i], gate = g[i]
            if limit > 0 {
                up = min(max(up, -limit), limit)
                gate = min(gate, limit)  // the gate is clamped from above only
                if up != u[i] || gate != g[i] { clamped += 1 }
            }
            var a = silu32(gate) * up
            if let routeWeights { a = routeWeights(i / inter) * a }
            g[i] = roundBF16(a)
        }
        return clamped
    }
}

/// Mixture of experts with hash routing (first layers) or score routing (spec §5, §11.1.6).
struct MoE {
    let config: ModelConfig
    let gate: WeightMatrix            // [E, D], used in fp32
    let bias: [Float]?                // score routing: biases the selection only
    let tokenToExperts: [Int]?        // hash routing: tid2eid [vocab, k]
    let experts: [Expert]
    let shared: Expert?

    init(_ w: WeightLoader, prefix p: String, hashRouted: Bool) throws {
        let c = w.config
        config = c
        gate = try w.matrix(p + "gate.weight")
        bias = hashRouted ? nil : try w.floats(p + "gate.bias")
        tokenToExperts = hashRouted ? try w.int64s(p + "gate.tid2eid") : nil
        let limit = Float(c.swigluLimit)
        experts = try (0..<c.nRoutedExperts).map { e in
            let q = p + "experts.\(e)."
            return Expert(w1: try w.expertWeight(q + "w1"), w2: try w.expertWeight(q + "w2"), w3: try w.expertWeight(q + "w3"), limit: limit)
        }
        shared = c.nSharedExperts > 0
            ? Expert(w1: try w.fp8Weight(p + "shared_experts.w1"), w2: try w.fp8Weight(p + "shared_experts.w2"),
                     w3: try w.fp8Weight(p + "shared_experts.w3"), limit: limit)
            : nil
        if let table = tokenToExperts {
            let k = c.nActivatedExperts
            for row in stride(from: 0, to: table.count, by: k) {
                let ids = table[row..<(row + k)]
                guard ids.allSatisfy({ (0..<c.nRoutedExperts).contains($0) }), Set(ids).count == k else {
                    throw RiptideModelError.invalidWeights("\(p)gate.tid2eid row \(row / k) must name \(k) distinct experts in 0..<\(c.nRoutedExperts), has \(Array(ids))")
                }
            }
        }
    }

    /// Routing of each token: (weights [T, k] fp32, expert ids [T, k]).
    func route(_ x: [Float], tokens: [Int]) -> (weights: [Float], ids: [Int]) {
        let t = tokens.count, k = config.nActivatedExperts, e = config.nRoutedExperts
        let logits = gate.apply(x, count: t)
        var weights = [Float](repeating: 0, count: t * k), ids = [Int](repeating: 0, count: t * k)
        for i in 0..<t {
            let scores: [Float] = (0..<e).map { j in
                let l = logits[i * e + j]
                switch config.scoreFunc {
                case .sqrtsoftplus: return sqrt32(softplus32(l))
                case .sigmoid: return sigmoid32(l)
                case .softmax: preconditionFailure("softmax scoring is rejected at load")
                }
            }
            let chosen: [Int]
            if let table = tokenToExperts {
                chosen = Array(table[(tokens[i] * k)..<((tokens[i] + 1) * k)])
            } else {
                let biased = (0..<e).map { scores[$0] + bias![$0] }
                chosen = topKDescending(biased, k)
            }
            var total = 0.0
            for j in chosen { total += Double(scores[j]) }
            for (slot, j) in chosen.enumerated() {
                ids[i * k + slot] = j
                weights[i * k + slot] = (scores[j] / Float(total)) * Float(config.routeScale)
            }
        }
        return (weights, ids)
    }

    /// x [T, D] bf16 → bf16 [T, D]. Routed outputs are added in ascending expert id, the shared
    /// expert last, all in fp32.
    func forward(_ x: [Float], tokens: [Int], trace: ModelTrace? = nil) -> [Float] {
        let t = tokens.count, k = config.nActivatedExperts, dim = config.dim
        let (weights, ids) = route(x, tokens: tokens)
        trace?.routedExperts.append(ids)
        if experts.allSatisfy({ $0.isPacked }) && shared?.isPacked != false {
            return groupedForward(x, tokens: t, weights: weights, ids: ids, trace: trace)
        }
        var y = [Float](repeating: 0, count: t * dim)
        for e in Set(ids).sorted() {
            var rows: [Int] = [], rowWeights: [Float] = []
            for i in 0..<t { for s in 0..<k where ids[i * k + s] == e { rows.append(i); rowWeights.append(weights[i * k + s]) } }
            var input = [Float](); input.reserveCapacity(rows.count * dim)
            for r in rows { input += x[(r * dim)..<((r + 1) * dim)] }
            let out = experts[e].apply(input, count: rows.count, routeWeights: rowWeights, trace: trace)
            for (n, r) in rows.enumerated() { for c in 0..<dim { y[r * dim + c] = y[r * dim + c] + out[n * dim + c] } }
        }
        if let shared {
            let out = shared.apply(x, count: t, routeWeights: nil, trace: trace)
            for i in 0..<(t * dim) { y[i] = y[i] + out[i] }
        }
        return y.map(roundBF16)
    }
}

public enum RiptideModelError: Error, CustomStringConvertible {
    case invalidWeights(String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case .invalidWeights(let m): "invalid weights: \(m)"
        case .invalidInput(let m): "invalid input: \(m)"
        }
    }
}
