import XCTest
@testable import RiptideEngine

/// How prompts are cut into chunks: a step without decodes gives a prompt the whole token budget;
/// a step that decodes gives each prompt at most `chunkedPrefillSize` tokens.
final class ChunkedPrefillTests: XCTestCase {
    func testPromptsTakeTheBudgetUnlessTheStepDecodes() async throws {
        let engine = try Engine(model: TestModels.tiny, tokenizer: TestModels.tokenizer, config: .with {
            $0.prefixCache = false; $0.chunkedPrefillSize = 16; $0.maxPrefillTokens = 4096; $0.recordSteps = true
        })
        let first = try engine.submit(GenerationRequest(id: "a", promptTokens: randomTokens(seed: 1, count: 150),
                                                        sampling: greedy(60, logprobs: nil)))
        var events = first.makeAsyncIterator()
        while let e = await events.next() { if case .delta = e { break } }   // "a" is decoding now
        let second = try engine.submit(GenerationRequest(id: "b", promptTokens: randomTokens(seed: 2, count: 100),
                                                         sampling: greedy(4, logprobs: nil)))
        let secondOutput = await collect(second)
        XCTAssertEqual(secondOutput.tokens[0].count, 4)
        while let _ = await events.next() {}
        await engine.waitUntilIdle()
        try await Task.sleep(nanoseconds: 20_000_000)

        let steps = engine.takeProfile().records
        XCTAssertEqual(steps.first?.rows, 150, "alone, the prompt runs as one chunk")
        let mixed = steps.filter { $0.decodes > 0 && $0.rows > $0.decodes }
        XCTAssertGreaterThanOrEqual(mixed.count, 7, "the second prompt ran beside the first one's decodes")
        for s in mixed { XCTAssertLessThanOrEqual(s.rows - s.decodes, 16) }
        XCTAssertEqual(mixed.reduce(0) { $0 + $1.rows - $1.decodes }, 100)
        XCTAssertEqual(engine.checkInvariants(), [])
    }
}
