import Foundation

/// Picks the next token from logits: greedy at temperature 0, otherwise a seeded draw from
/// softmax(logits / T), optionally restricted to the smallest top-p set.
public struct Sampler: Sendable {
    public let temperature: Float
    public let topP: Float
    private var state: UInt64

    public init(temperature: Float, topP: Float = 1, seed: UInt64) {
        self.temperature = temperature
        self.topP = topP
        state = seed ^ 0x9E37_79B9_7F4A_7C15
    }

    public mutating func next(_ logits: [Float]) -> Int {
        guard temperature > 0 else {
            return logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) } ?? 0
        }
        let m = logits.max() ?? 0
        let probabilities = logits.map { Foundation.exp(Double(($0 - m) / temperature)) }
        var order = Array(probabilities.indices)
        if topP < 1 {
            // Only tokens above a threshold whose mass already covers top-p can be in the nucleus, so
            // sort just those (a few hundred, not the whole vocabulary); lower the threshold until it covers.
            let total = probabilities.reduce(0, +), target = Double(topP) * total
            var threshold = 1e-3  // relative to the largest probability, which is 1 here
            while true {
                let mass = probabilities.reduce(0) { $1 >= threshold ? $0 + $1 : $0 }
                if mass >= target || threshold == 0 { break }
                threshold = threshold < 1e-12 ? 0 : threshold * 1e-3
            }
            var cut = 0
            while true {
                order = probabilities.indices.filter { probabilities[$0] >= threshold }
                order.sort { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }
                var kept = 0.0
                cut = order.count
                for (n, i) in order.enumerated() {
                    kept += probabilities[i]
                    if kept >= target { cut = n + 1; break }
                }
                // Summed in another order, the candidates' mass can fall a rounding short of the target:
                // then take everything, as the full sort would.
                if kept >= target || threshold == 0 { break }
                threshold = 0
            }
            order = Array(order[..<cut])
        }
        let total = order.reduce(0) { $0 + probabilities[$1] }
        var target = uniform() * total
        for i in order {
            target -= probabilities[i]
            if target <= 0 { return i }
        }
        return order.last ?? 0
    }

    /// The next uniform draw, as `next` would take it (tests replay the sampler with it).
    mutating func drawForTesting() -> Double { uniform() }

    /// SplitMix64 → [0, 1).
    private mutating func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
    }
}
