import Foundation
import RiptideModel

/// What a decode step must read and multiply, from the checkpoint's tensor shapes: bytes of the
/// dense weights, the head and each layer's routed expert, and their multiply-adds per row.
/// Encoded into `roofline --json`, so the sweep can bound steps of any mix of decodes and prompt rows.
struct StepCost: Encodable {
    var dense = 0, head = 0, embedRow = 0
    var denseMACs = 0, headMACs = 0
    /// Per main layer: bytes of one routed expert, and the multiply-adds of the k a token uses.
    var expert: [Int], expertMACs: [Int]
    /// n routed experts, k of them per token.
    var routedExperts: Int, activatedExperts: Int

    init(config c: ModelConfig) {
        (routedExperts, activatedExperts) = (c.nRoutedExperts, c.nActivatedExperts)
        expert = [Int](repeating: 0, count: c.nLayers)
        expertMACs = expert
        for spec in c.expectedTensors where !spec.name.hasPrefix("mtp.") && spec.name != "embed.weight" && !spec.name.hasSuffix("tid2eid") {
            // A 2-D weight is one product per row: fp4 (i8) holds two weights a byte. Scales are not.
            let macs = spec.shape.count == 2 && spec.dtype != .f8e8m0 ? spec.shape.reduce(1, *) * (spec.dtype == .i8 ? 2 : 1) : 0
            if spec.name == "head.weight" {
                head += spec.byteCount
                headMACs += macs
            } else if spec.name.contains(".experts."), let layer = Int(spec.name.split(separator: ".")[1]) {
                expert[layer] += spec.byteCount
                expertMACs[layer] += macs
            } else {
                dense += spec.byteCount
                denseMACs += macs
            }
        }
        expert = expert.map { $0 / c.nRoutedExperts }
        expertMACs = expertMACs.map { $0 / c.nRoutedExperts * c.nActivatedExperts }
        embedRow = c.dim * 2
    }

    func uniqueBytes(batch: Int, experts: [Int], stateBytes: Int) -> Int {
        dense + head + batch * embedRow + zip(expert, experts).reduce(0) { $0 + $1.0 * $1.1 } + stateBytes
    }

    /// Distinct routed experts per layer that `batch` rows touch on average when each row picks k
    /// of n uniformly: n·(1 − (1 − k/n)^batch). The sweep's bound for servers whose routing it cannot see.
    func expectedExperts(batch: Int, config c: ModelConfig) -> [Int] {
        let n = Double(c.nRoutedExperts), k = Double(c.nActivatedExperts)
        return expert.map { _ in Int((n * (1 - pow(1 - k / n, Double(batch)))).rounded()) }
    }

    /// Multiply-adds of a `tokens`-token prefill: every row through the dense weights and its k
    /// experts, the head for the last row only.
    func prefillMACs(tokens: Int) -> Int { tokens * (denseMACs + expertMACs.reduce(0, +)) + headMACs }

    /// Weight multiply-adds of a decode step of `batch` rows. Attention over the bench's short
    /// contexts (a few percent more) is left out, so the compute bound is a lower bound.
    func macs(batch: Int) -> Int { batch * (denseMACs + headMACs + expertMACs.reduce(0, +)) }
}
