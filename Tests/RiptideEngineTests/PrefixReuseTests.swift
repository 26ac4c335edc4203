import XCTest
@testable import RiptideEngine
import RiptideModel

/// Multi-turn traffic on `tiny-real` (window 128, ratios 0, 4, 128, 4): each turn must cost only
/// its new tokens plus at most one partial block, and give the logits of a run without reuse.
final class PrefixReuseTests: XCTestCase {
    func engine(prefixCache: Bool) throws -> Engine {
        try Engine(model: TestModels.tinyReal, tokenizer: TestModels.tokenizer, config: .with { $0.prefixCache = prefixCache })
    }

    func testEightTurnChatComputesOnlyItsNewTokens() async throws {
        let cached = try engine(prefixCache: true), uncached = try engine(prefixCache: false)
        var history: [Int] = []
        for turn in 0..<8 {
            let user = randomTokens(seed: 500 + UInt64(turn), count: 190 + 7 * turn)
            let prompt = history + user
            let request = GenerationRequest(id: "turn\(turn)", promptTokens: prompt, sampling: greedy(24))
            let reused = await collect(try cached.submit(request))
            let fresh = await collect(try uncached.submit(request))
            XCTAssertEqual(reused, fresh, "turn \(turn): output differs from a run without reuse")
            let computed = prompt.count - (reused.usage?.cachedTokens ?? 0)
            if turn > 0 {
                XCTAssertLessThanOrEqual(computed, user.count + 128, "turn \(turn) computed \(computed) of \(prompt.count) tokens")
            }
            XCTAssertEqual(fresh.usage?.cachedTokens, 0)
            history = prompt + reused.tokens[0]
        }
        XCTAssertEqual(cached.checkInvariants(), [])
    }

    func testTurnDivergingWhereTheAnswerBeganReusesThePrompt() async throws {
        let cached = try engine(prefixCache: true), uncached = try engine(prefixCache: false)
        let first = randomTokens(seed: 900, count: 333)
        _ = await collect(try cached.submit(GenerationRequest(id: "a", promptTokens: first, sampling: greedy(40))))
        // The next turn re-renders the history: the answer's ids are not reproduced.
        let second = first + randomTokens(seed: 901, count: 150)
        let request = GenerationRequest(id: "b", promptTokens: second, sampling: greedy(8))
        let reused = await collect(try cached.submit(request))
        let fresh = await collect(try uncached.submit(request))
        XCTAssertEqual(reused, fresh)
        XCTAssertGreaterThanOrEqual(reused.usage?.cachedTokens ?? 0, first.count - 127)
    }

    func testFlushDropsEverySnapshot() async throws {
        let cached = try engine(prefixCache: true)
        _ = await collect(try cached.submit(GenerationRequest(id: "a", promptTokens: randomTokens(seed: 7, count: 300), sampling: greedy(4))))
        try await Task.sleep(nanoseconds: 20_000_000)
        XCTAssertGreaterThan(cached.stats().cacheBytes, 0)
        let flushed = await cached.flushCache()
        XCTAssertTrue(flushed)
        XCTAssertEqual(cached.stats().cacheBytes, 0)
        XCTAssertEqual(cached.stats().requestBytes, 0)
    }
}
