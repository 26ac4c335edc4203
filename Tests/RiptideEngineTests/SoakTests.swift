import XCTest
@testable import RiptideEngine
import RiptideModel

/// Many mixed requests with random cancellations, then memory and completeness checks.
final class SoakTests: XCTestCase {
    func testTwoThousandMixedRequestsWithCancellations() async throws {
        let engine = try Engine(model: TestModels.tiny, tokenizer: TestModels.tokenizer, config: .with {
            $0.maxRunningRequests = 48
            $0.chunkedPrefillSize = 48
            $0.stateMemoryBytes = 24 << 20
            $0.projectedOutputFraction = 0.2
        })
        var rng = SystemRandomNumberGenerator()
        let total = 2000
        var streams: [(id: String, stream: AsyncStream<EngineEvent>, n: Int, cancel: Bool)] = []
        for i in 0..<total {
            var p = SamplingParams()
            p.maxTokens = Int.random(in: 1...12, using: &rng)
            p.temperature = [0, 0.7, 1.0][i % 3]
            p.topP = [1, 0.9, 0.5][i % 3]
            p.topK = i % 4 == 0 ? 20 : 0
            p.n = i % 10 == 0 ? 3 : 1
            p.seed = UInt64(i)
            p.frequencyPenalty = i % 5 == 0 ? 0.5 : 0
            p.repetitionPenalty = i % 7 == 0 ? 1.2 : 1
            p.stop = i % 6 == 0 ? ["a", "the"] : []
            p.logprobs = i % 8 == 0 ? 3 : nil
            let prompt = randomTokens(seed: UInt64(10_000 + i), count: Int.random(in: 1...200, using: &rng))
            let id = "soak\(i)"
            streams.append((id, try engine.submit(GenerationRequest(id: id, promptTokens: prompt, sampling: p)), p.n, i % 9 == 4))
        }
        // Cancel some while they wait or run.
        let toCancel = streams.filter(\.cancel).map(\.id)
        Task.detached {
            for id in toCancel {
                engine.abort(id)
                try? await Task.sleep(nanoseconds: UInt64.random(in: 0...2_000_000))
            }
        }
        var completed = 0, aborted = 0
        for s in streams {
            let c = await collect(s.stream, n: s.n)
            XCTAssertNil(c.failed)
            XCTAssertNotNil(c.usage, "\(s.id) did not complete")
            if c.finish.contains(.abort) {
                XCTAssertTrue(s.cancel, "\(s.id) was aborted but never cancelled")
                aborted += 1
            } else {
                XCTAssertTrue(c.finish.allSatisfy { $0 == .stop || $0 == .length }, "\(s.id): \(c.finish)")
                completed += 1
            }
        }
        XCTAssertEqual(completed + aborted, total)
        XCTAssertGreaterThan(completed, total - toCancel.count - 1)
        await engine.waitUntilIdle()
        try await Task.sleep(nanoseconds: 50_000_000)
        XCTAssertEqual(engine.checkInvariants(), [])
        let st = engine.stats()
        XCTAssertEqual(st.requestBytes, 0)
        XCTAssertEqual(st.running + st.queued, 0)
        print("soak: \(completed) completed, \(aborted) aborted, \(st.retractions) retractions, \(st.steps) steps, hit rate \(st.cacheHitRate)")
    }

    func testDisconnectAbortsAndFrees() async throws {
        let engine = try Engine(model: TestModels.tiny, tokenizer: TestModels.tokenizer, config: .with { _ in })
        let stream = try engine.submit(GenerationRequest(id: "gone", promptTokens: randomTokens(seed: 3, count: 50), sampling: greedy(100_000 - 60, logprobs: nil)))
        let reader = Task { for await _ in stream {} }
        try await Task.sleep(nanoseconds: 100_000_000)
        reader.cancel()
        await engine.waitUntilIdle()
        try await Task.sleep(nanoseconds: 20_000_000)
        XCTAssertEqual(engine.stats().abortedRequests, 1)
        XCTAssertEqual(engine.stats().requestBytes, 0)
        XCTAssertEqual(engine.checkInvariants(), [])
    }
}
