import Foundation
import Testing
@testable import RiptideModel

/// The sampler against a plain full-sort nucleus sampler fed the same uniform draws.
@Suite struct SamplerTests {
    @Test func greedyTakesTheFirstLargest() {
        var s = Sampler(temperature: 0, seed: 1)
        #expect(s.next([0.5, 2, -1, 2]) == 1)
    }

    @Test(arguments: [Float(0.95), 0.5, 0.01, 1])
    func topPMatchesAFullSort(topP: Float) {
        var rng = Xoshiro256(seed: UInt64(topP * 1000))
        for trial in 0..<20 {
            let vocab = trial % 2 == 0 ? 129_280 : 50
            let spread: Float = trial % 4 < 2 ? 8 : 0.5    // peaked and flat distributions
            var logits = (0..<vocab).map { _ in rng.uniform(std: spread) }
            if trial % 5 == 0 { for i in 0..<10 { logits[i * 3] = 1.25 } }  // ties
            var fast = Sampler(temperature: 0.7, topP: topP, seed: UInt64(trial))
            var plain = Sampler(temperature: 0.7, topP: topP, seed: UInt64(trial))
            for _ in 0..<5 {
                let expected = fullSortPick(logits, temperature: 0.7, topP: topP, draw: plain.drawForTesting())
                #expect(fast.next(logits) == expected)
            }
        }
    }

    /// Nucleus sampling the obvious way: sort everything by probability (ties by id), cut, draw.
    func fullSortPick(_ logits: [Float], temperature: Float, topP: Float, draw: Double) -> Int {
        let m = logits.max()!
        let p = logits.map { Foundation.exp(Double(($0 - m) / temperature)) }
        var order = Array(p.indices)
        if topP < 1 {
            order.sort { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
            let target = Double(topP) * p.reduce(0, +)
            var kept = 0.0, cut = order.count
            for (n, i) in order.enumerated() {
                kept += p[i]
                if kept >= target { cut = n + 1; break }
            }
            order = Array(order[..<cut])
        }
        var target = draw * order.reduce(0) { $0 + p[$1] }
        for i in order {
            target -= p[i]
            if target <= 0 { return i }
        }
        return order.last!
    }
}
