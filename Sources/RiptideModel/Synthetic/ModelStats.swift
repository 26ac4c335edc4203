/// How "trained-like" a checkpoint behaves on a prompt (issue 3): SwiGLU clamp rate, load per
/// routed expert per layer, and the residual stream's RMS per layer.
public struct ModelStats: Sendable {
    public let tokens: Int
    public let clampRate: Double
    /// [layer][expert]: tokens routed to each expert in each main layer.
    public let expertLoad: [[Int]]
    public let residualRMS: [Float]

    /// Runs `tokens` as one prefill of a fresh sequence and records the statistics.
    public init(transformer: Transformer, tokens: [Int]) throws {
        let trace = ModelTrace()
        _ = try transformer.forward([.init(tokens: tokens, state: transformer.newSequence())], trace: trace)
        let experts = transformer.config.nRoutedExperts
        expertLoad = trace.routedExperts.map { ids in ids.reduce(into: [Int](repeating: 0, count: experts)) { $0[$1] += 1 } }
        clampRate = trace.clampRate
        residualRMS = trace.residualRMS
        self.tokens = tokens.count
    }

    /// Seeded pseudo-random token ids across the vocabulary.
    public static func sampleTokens(count: Int, vocabulary: Int, seed: UInt64 = 1) -> [Int] {
        var rng = Xoshiro256(seed: seed)
        return (0..<count).map { _ in Int(rng.next() % UInt64(vocabulary)) }
    }

    /// Every routed expert of every layer received at least one token.
    public var everyExpertUsed: Bool { expertLoad.allSatisfy { $0.allSatisfy { $0 > 0 } } }

    /// Largest ratio between a layer's residual RMS and layer 0's (either direction).
    public var residualDrift: Float {
        guard let first = residualRMS.first, first > 0 else { return .infinity }
        return residualRMS.map { max($0 / first, first / $0) }.max() ?? 1
    }

    public var report: String {
        var lines = [String(format: "stats over %d tokens: SwiGLU clamp rate %.3f%%", tokens, clampRate * 100)]
        for (l, load) in expertLoad.enumerated() {
            lines.append("  layer \(l) expert load: min \(load.min() ?? 0), max \(load.max() ?? 0), unused \(load.filter { $0 == 0 }.count)/\(load.count)")
        }
        lines.append("  residual RMS per layer: " + residualRMS.map { String(format: "%.3f", $0) }.joined(separator: " ")
                     + String(format: " (largest ratio to layer 0: %.2f)", residualDrift))
        return lines.joined(separator: "\n")
    }
}
