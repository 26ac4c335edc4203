import Foundation
import Testing
@testable import RiptideModel

/// Deterministic pseudo-random token ids.
func tokenIds(seed: UInt64, count: Int, vocab: Int = 129_280) -> [Int] {
    var x = seed
    return (0..<count).map { _ in
        x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((x >> 33) % UInt64(vocab))
    }
}

@Suite(.serialized) struct ExtendAndBatchTests {
    /// Extend (S > 1 new tokens at start > 0, as chunked prefill sends them) equals feeding the
    /// same tokens one decode step at a time: every step's logits, bit for bit.
    @Test(arguments: [1, 7, 64])
    func extendEqualsTokenByTokenDecode(chunk: Int) throws {
        let model = ReferenceModels.tiny
        let prompt = tokenIds(seed: 1, count: 41), continuation = tokenIds(seed: 2, count: 64)
        let stepwise = model.newSequence(), chunked = model.newSequence()
        _ = try model.forward([.init(tokens: prompt, state: stepwise)])
        _ = try model.forward([.init(tokens: prompt, state: chunked)])
        var stepLogits: [[Float]] = []
        for t in continuation { stepLogits.append(try model.forward([.init(tokens: [t], state: stepwise)])[0].logits) }
        for start in stride(from: 0, to: continuation.count, by: chunk) {
            let end = min(start + chunk, continuation.count)
            let out = try model.forward([.init(tokens: Array(continuation[start..<end]), state: chunked)])[0]
            #expect(out.logits == stepLogits[end - 1], "chunk ending at \(end)")
        }
        #expect(chunked.position == stepwise.position)
    }

    /// A batch of 8 different sequences (prefills of several lengths, decodes and extends) in one
    /// forward call gives each sequence exactly what it gets alone.
    @Test func batchOfEightEqualsEachAlone() throws {
        let model = ReferenceModels.tiny
        let histories = (0..<8).map { tokenIds(seed: 100 + UInt64($0), count: [0, 3, 41, 17, 0, 9, 64, 5][$0]) }
        let newTokens = (0..<8).map { tokenIds(seed: 200 + UInt64($0), count: [12, 1, 7, 1, 41, 30, 1, 2][$0]) }
        func prepared(_ i: Int) throws -> SequenceState {
            let s = model.newSequence()
            if !histories[i].isEmpty { _ = try model.forward([.init(tokens: histories[i], state: s)]) }
            return s
        }
        let alone = try (0..<8).map { i in try model.forward([.init(tokens: newTokens[i], state: try prepared(i), wantsStreams: true)])[0] }
        let states = try (0..<8).map(prepared)
        let batched = try model.forward((0..<8).map { .init(tokens: newTokens[$0], state: states[$0], wantsStreams: true) })
        for i in 0..<8 {
            #expect(batched[i].logits == alone[i].logits, "sequence \(i)")
            #expect(batched[i].finalStreams == alone[i].finalStreams, "sequence \(i)")
            #expect(states[i].position == histories[i].count + newTokens[i].count)
        }
    }

    @Test func badInputIsRejectedWithAMessage() throws {
        let model = ReferenceModels.tiny
        let s = model.newSequence()
        #expect(throws: RiptideModelError.self) { try model.forward([.init(tokens: [], state: s)]) }
        #expect(throws: RiptideModelError.self) { try model.forward([.init(tokens: [129_280], state: s)]) }
        #expect(throws: RiptideModelError.self) { try model.forward([.init(tokens: [-1], state: s)]) }
        #expect(s.position == 0)
    }
}
