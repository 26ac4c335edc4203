import XCTest
@testable import RiptideEngine
import RiptideModel

/// A request's output (greedy tokens and its logprobs, which are functions of the whole logits
/// row) must not depend on what else runs, how its prompt is chunked, retraction, decode steps or
/// prefix reuse.
final class BatchInvarianceTests: XCTestCase {
    let lengths = [1, 2, 3, 5, 8, 13, 17, 31, 40, 64, 77, 100, 127, 128, 129, 150, 3, 9, 33, 60,
                   200, 255, 256, 257, 11, 21, 45, 90, 140, 170, 230, 300]

    func requests() -> [GenerationRequest] {
        lengths.enumerated().map { i, n in
            GenerationRequest(id: "r\(i)", promptTokens: randomTokens(seed: UInt64(i), count: n), sampling: greedy(24 + i % 9))
        }
    }

    func alone(_ config: EngineConfig) async throws -> [Collected] {
        let engine = try Engine(model: TestModels.tiny, tokenizer: TestModels.tokenizer, config: config)
        var out: [Collected] = []
        for r in requests() { out.append(await collect(try engine.submit(r))) }
        XCTAssertEqual(engine.checkInvariants(), [])
        return out
    }

    func together(_ config: EngineConfig) async throws -> (results: [Collected], stats: EngineStats) {
        let engine = try Engine(model: TestModels.tiny, tokenizer: TestModels.tokenizer, config: config)
        let streams = try requests().map { try engine.submit($0) }
        var out: [Collected] = []
        for s in streams { out.append(await collect(s)) }
        await engine.waitUntilIdle()
        try await Task.sleep(nanoseconds: 20_000_000)
        XCTAssertEqual(engine.checkInvariants(), [])
        return (out, engine.stats())
    }

    func testTogetherEqualsAloneInEveryMode() async throws {
        let reference = try await alone(.with { $0.prefixCache = false })
        XCTAssertEqual(reference.count, 32)
        XCTAssertTrue(reference.allSatisfy { $0.tokens[0].count >= 24 && $0.logprobs[0].count == $0.tokens[0].count })

        let plain = try await together(.with { $0.prefixCache = false; $0.chunkedPrefillSize = 0; $0.maxPrefillTokens = 100_000 })
        XCTAssertEqual(plain.results, reference, "whole prompts, all at once")
        XCTAssertGreaterThan(plain.stats.peakRunning, 16)

        let chunked = try await together(.with { $0.prefixCache = false; $0.chunkedPrefillSize = 37; $0.maxPrefillTokens = 90 })
        XCTAssertEqual(chunked.results, reference, "chunked prefill")

        let steps = try await together(.with { $0.prefixCache = false; $0.decodeSteps = 4 })
        XCTAssertEqual(steps.results, reference, "--decode-steps 4")

        // Memory for the longest request and little more, admitted on prompts alone: decodes must retract.
        let longest = SequenceState.bytes(config: TestModels.tiny.config, tokens: 340, mtp: false)
        let tight = try await together(.with {
            $0.prefixCache = false; $0.stateMemoryBytes = longest; $0.projectedOutputFraction = 0
        })
        XCTAssertEqual(tight.results, reference, "with retraction")
        XCTAssertGreaterThan(tight.stats.retractions, 0, "the memory budget did not force a retraction")

        // Prefix reuse: the same requests again, on an engine whose cache holds their prompts.
        let engine = try Engine(model: TestModels.tiny, tokenizer: TestModels.tokenizer, config: .with { $0.chunkedPrefillSize = 64 })
        for r in requests() { _ = await collect(try engine.submit(r)) }
        let streams = try requests().map { try engine.submit($0) }
        var again: [Collected] = []
        for s in streams { again.append(await collect(s)) }
        XCTAssertEqual(again, reference, "after prefix reuse")
        XCTAssertGreaterThan(engine.stats().cachedPromptTokens, 1000)
    }
}
