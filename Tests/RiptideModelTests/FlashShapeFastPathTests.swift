import Foundation
import Testing
import RiptideCheckpoint
@testable import RiptideModel

/// The fast kernels against the bit-exact reference at DeepSeek-V4-Flash's real widths (64 heads of
/// 512, 64 indexer heads of 128, dim 4096, a ratio-4 layer with the indexer), which the tiny
/// presets do not reach: prefill, then token-by-token decode over compressed entries. Fewer
/// experts and a small vocabulary keep the checkpoint to ~0.6 GB.
@Suite struct FlashShapeFastPathTests {
    @Test func fastMatchesReferenceAtFlashWidths() throws {
        var config = ModelPreset.flash.config(layers: 3, experts: 8)
        config.vocabSize = 2048
        config.nMTPLayers = 0
        config.indexTopK = 4   // fewer than the 6 blocks a 24-token prompt makes: the top-k really selects
        config.compressRatios = Array(config.compressRatios.prefix(3))
        try config.validate()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("riptide-flash-shape-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = SyntheticWeights(config: config, seed: 1)
        try SafetensorsWriter.writeSharded(config.expectedTensors, to: dir, maxShardBytes: 1 << 30,
                                           produce: weights.prefetchingProducer(for: config.expectedTensors))
        try config.huggingFaceJSON().write(to: dir.appendingPathComponent("config.json"))
        let reference = try Transformer(directory: dir, kernels: .reference)
        let fast = try Transformer(directory: dir, kernels: .fast)

        let prompt = (0..<24).map { 3 + ($0 * 389) % 2000 }, continuation = [17, 901, 1500, 42]
        let (refState, fastState) = (reference.newSequence(), fast.newSequence())
        var rows: [([Float], [Float])] = []
        rows.append((try reference.forward([.init(tokens: prompt, state: refState)])[0].logits,
                     try fast.forward([.init(tokens: prompt, state: fastState)])[0].logits))
        for token in continuation {
            rows.append((try reference.forward([.init(tokens: [token], state: refState)])[0].logits,
                         try fast.forward([.init(tokens: [token], state: fastState)])[0].logits))
        }
        var agree = 0
        for (i, (r, f)) in rows.enumerated() {
            var diff = 0.0, norm = 0.0
            for k in r.indices { diff += Double((r[k] - f[k]) * (r[k] - f[k])); norm += Double(r[k] * r[k]) }
            let relative = (diff / norm).squareRoot()
            let top = { (v: [Float]) in v.indices.max { v[$0] < v[$1] }! }
            if top(r) == top(f) { agree += 1 }
            print("flash-shape step \(i): relative L2 error \(relative), top-1 \(top(r)) / \(top(f))")
            #expect(relative < 0.06, "step \(i): relative L2 error \(relative)")
        }
        #expect(agree >= rows.count - 1, "top-1 agreed on \(agree) of \(rows.count) steps")
    }
}
