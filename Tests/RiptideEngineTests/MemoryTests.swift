import XCTest
@testable import RiptideEngine
import RiptideModel

final class MemoryTests: XCTestCase {
    func testStateBytesMatchTheFormula() throws {
        let model = TestModels.tinyReal
        let state = model.newSequence(mtp: false)
        let tokens = randomTokens(seed: 1, count: 700)
        var done = 0
        for chunk in [1, 127, 200, 1, 371] {
            _ = try model.forward([.init(tokens: Array(tokens[done..<(done + chunk)]), state: state, forceIncremental: true)])
            done += chunk
            XCTAssertEqual(state.bytes, SequenceState.bytes(config: model.config, tokens: done, mtp: false), "after \(done) tokens")
        }
        // A copy holds the same bytes and continues identically.
        let copy = state.copy()
        let a = try model.forward([.init(tokens: [5000], state: state, forceIncremental: true)])[0].logits
        let b = try model.forward([.init(tokens: [5000], state: copy, forceIncremental: true)])[0].logits
        XCTAssertEqual(a, b)
    }

    func testAdmitsExactlyWhatTheAccountingAllows() async throws {
        let model = TestModels.tiny
        let prompt = 2047
        let perRequest = SequenceState.bytes(config: model.config, tokens: prompt + 1, mtp: false)
        let engine = try Engine(model: model, tokenizer: TestModels.tokenizer, config: .with {
            $0.stateMemoryBytes = perRequest * 3 + perRequest / 2
            $0.prefixCache = false
        })
        let streams = try (0..<5).map { i in
            try engine.submit(GenerationRequest(id: "m\(i)", promptTokens: randomTokens(seed: UInt64(i), count: prompt), sampling: greedy(1, logprobs: nil)))
        }
        for s in streams { _ = await collect(s) }
        XCTAssertEqual(engine.stats().peakRunning, 3)
    }

    func testRequestThatCanNeverFitFailsAtOnce() throws {
        let engine = try Engine(model: TestModels.tiny, tokenizer: TestModels.tokenizer, config: .with { $0.stateMemoryBytes = 100_000 })
        XCTAssertThrowsError(try engine.submit(GenerationRequest(id: "big", promptTokens: randomTokens(seed: 1, count: 5000), sampling: greedy(10)))) { error in
            guard case EngineError.tooLarge(let need, let capacity) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(capacity, 100_000)
            XCTAssertGreaterThan(need, capacity)
        }
    }

    func testContextLimit() throws {
        let engine = try Engine(model: TestModels.tiny, tokenizer: TestModels.tokenizer, config: .with { $0.contextLength = 64 })
        XCTAssertThrowsError(try engine.submit(GenerationRequest(id: "long", promptTokens: randomTokens(seed: 1, count: 60), sampling: greedy(10))))
    }
}
