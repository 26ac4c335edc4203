import Foundation
import Testing
@testable import RiptideBench

/// `riptide bench` against FakeCompletionsServer, whose timings are known exactly, so every metric
/// has an expected value: TPOT = itl, interactivity = 1/itl, and TTFT/throughput from a replay of the
/// closed loop (conc clients, `maxConcurrent` FIFO server slots, service = ttft + (out−1)·itl).
/// Serialized: the timing checks must not share the 2 CPUs with the other end-to-end tests.
/// Set RIPTIDE_BENCH_E2E_OUT=DIR to keep the rows and the HTML report (tools/report/render_check.py).
@Suite(.serialized) struct EndToEndTests {
    static let isl = 64, osl = 16
    // TTFT 250 ms: large enough that a few ms of scheduling delay on a loaded 2-core box stays ≪ 5%.
    static let settings = FakeCompletionsServer.Settings(ttft: 0.25, itl: 0.02, maxConcurrent: 8)

    struct Expected { var ttftMedian, duration, totalTokens, outputTokens: Double; var requests: Int }

    /// Replays the closed loop with the client's own prompts (same generator, same seed).
    static func expected(conc: Int, prompts: [BenchPrompt], s: FakeCompletionsServer.Settings) -> Expected {
        var clientFree = [Double](repeating: 0, count: conc)
        var serverFree = [Double](repeating: 0, count: s.maxConcurrent)
        var ttfts: [Double] = [], end = 0.0
        for p in prompts {
            let k = clientFree.indices.min { clientFree[$0] < clientFree[$1] }!
            let j = serverFree.indices.min { serverFree[$0] < serverFree[$1] }!
            let send = clientFree[k], start = max(send, serverFree[j])
            let finish = start + s.ttft + Double(p.outputLength - 1) * s.itl
            clientFree[k] = finish; serverFree[j] = finish
            ttfts.append(start - send + s.ttft)
            end = max(end, finish)
        }
        return Expected(ttftMedian: Summary(ttfts).median, duration: end,
                        totalTokens: Double(prompts.reduce(0) { $0 + $1.promptLength + $1.outputLength }),
                        outputTokens: Double(prompts.reduce(0) { $0 + $1.outputLength }), requests: prompts.count)
    }

    static func relErr(_ got: Double, _ want: Double) -> Double { abs(got - want) / want }

    @Test func sweepMatchesKnownTimings() async throws {
        let server = try await FakeCompletionsServer.start(Self.settings)
        defer { Task { try? await server.stop() } }
        var config = BenchConfig(baseURL: server.baseURL, inputLength: Self.isl, outputLength: Self.osl,
                                 concurrencies: [1, 2, 4, 8, 16])
        config.showProgress = false
        config.devices = 2
        config.label = "fake-server"
        let codec = WordStandInCodec()
        let results = try await BenchRunner(config: config, codec: codec).run()
        #expect(results.count == 5)

        var worst = 0.0
        for r in results {
            let conc = r.row.conc, m = r.metrics
            let prompts = PromptGenerator(inputLength: Self.isl, outputLength: Self.osl).make(count: conc * 10, codec: codec)
            let e = Self.expected(conc: conc, prompts: prompts, s: Self.settings)
            let checks: [(String, Double, Double)] = [
                ("median TTFT", m.ttftMs.median / 1000, e.ttftMedian),
                ("median TPOT", m.tpotMs.median / 1000, Self.settings.itl),
                ("mean TPOT", m.tpotMs.mean / 1000, Self.settings.itl),
                ("interactivity", r.row.medianInteractivity!, 1 / Self.settings.itl),
                ("request tput", m.requestThroughput, Double(e.requests) / e.duration),
                ("output tput", m.outputThroughput, e.outputTokens / e.duration),
                ("total tput", m.totalTokenThroughput, e.totalTokens / e.duration),
                ("tput/device", r.row.tputPerGPU!, e.totalTokens / e.duration / 2),
                ("input tput/device", r.row.values["input_tput_per_gpu"]!, (e.totalTokens - e.outputTokens) / e.duration / 2),
            ]
            var line = "conc \(conc):"
            for (name, got, want) in checks {
                let err = Self.relErr(got, want)
                worst = max(worst, err)
                line += String(format: " %@ %.4g (want %.4g, %+.1f%%)", name, got, want, (got - want) / want * 100)
                #expect(err < 0.05, "conc \(conc) \(name): got \(got), want \(want)")
            }
            line += String(format: "; client CPU %.1f%%, %.1f µs/chunk, sustains ~%.0f req/s",
                           r.overhead.cpuUtilization * 100, r.overhead.cpuMicrosPerChunk, r.overhead.sustainableRequestRate)
            print(line)
            #expect(m.completed == conc * 10 && !m.pointFailed)
            #expect(m.totalOutputTokens == Int(e.outputTokens))
        }
        print(String(format: "worst relative error over the sweep: %.2f%%", worst * 100))

        // Requests carried the InferenceX payload; warmups were 2×conc copies of prompt 0.
        let bodies = server.bodies.withLockedValue { $0 }
        #expect(bodies.count == [1, 2, 4, 8, 16].reduce(0) { $0 + 12 * $1 })
        let first = try #require(try JSONSerialization.jsonObject(with: bodies[0]) as? [String: Any])
        #expect(first["temperature"] as? Double == 0 && first["ignore_eos"] as? Bool == true && first["stream"] as? Bool == true)
        #expect((first["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
        #expect(first["model"] as? String == "test-model")
        #expect(bodies[0] == bodies[1])
        // Closed loop: never more than conc (16 at the last point) requests in flight, and exactly 16 reached.
        #expect(server.inFlight.withLockedValue { $0.peak } == 16)

        // Saved rows carry the InferenceX field names plus our identity fields.
        let saved = try JSONSerialization.jsonObject(with: JSONEncoder().encode(results.map(\.row))) as! [[String: Any]]
        for key in ["conc", "tput_per_gpu", "output_tput_per_gpu", "input_tput_per_gpu", "median_intvty",
                    "median_tpot", "p99.9_ttft", "mean_e2el", "std_itl", "label", "date", "hw", "hardware",
                    "framework", "isl", "osl", "tp", "client_sustainable_req_rate"] {
            #expect(saved.allSatisfy { $0[key] != nil }, "row key \(key) missing")
        }
        #expect(abs((saved[0]["median_tpot"] as! Double) - 0.02) < 0.001)   // seconds, as in agg files

        // The sweep's report renders: one frontier path for the one group, axes, legend.
        let rows = results.map(\.row)
        let grouped = GroupedFrontiers(rows: rows, by: .label)
        let table = IsoTable(grouped, targets: grouped.defaultTargets())
        let html = HTMLReport().render(grouped, table: table)
        #expect(html.components(separatedBy: "<path class=\"frontier\"").count == 2)
        #expect(html.contains("class=\"axis x-axis\"") && html.contains("class=\"legend\""))
        if let dir = ProcessInfo.processInfo.environment["RIPTIDE_BENCH_E2E_OUT"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            try e.encode(rows).write(to: URL(fileURLWithPath: dir + "/e2e-rows.json"))
            try Data(html.utf8).write(to: URL(fileURLWithPath: dir + "/e2e-report.html"))
        }
    }

    @Test func tenPercentFailuresFailThePoint() async throws {
        var s = Self.settings
        s.failEvery = 10
        let server = try await FakeCompletionsServer.start(s)
        defer { Task { try? await server.stop() } }
        var config = BenchConfig(baseURL: server.baseURL, inputLength: 32, outputLength: 4, concurrencies: [2])
        config.showProgress = false
        let r = try #require(try await BenchRunner(config: config, codec: WordStandInCodec()).run().first)
        // Requests 1–4 are warmup; 10 and 20 of the 20 main requests fail: 10% > 5%.
        #expect(r.metrics.failed == 2 && r.metrics.completed == 18)
        #expect(r.metrics.pointFailed)
        #expect(r.row.values["point_failed"] == 1)
        #expect(r.metrics.firstError == "HTTP 500")
    }

    /// The client must not be the bottleneck: with a zero-latency server, how many requests per
    /// second does it sustain, and what does it cost per streamed chunk?
    @Test func clientCapacity() async throws {
        let server = try await FakeCompletionsServer.start(.init(ttft: 0, itl: 0, maxConcurrent: 64))
        defer { Task { try? await server.stop() } }
        var config = BenchConfig(baseURL: server.baseURL, inputLength: 32, outputLength: 8, concurrencies: [16])
        config.showProgress = false
        config.promptsPerConcurrency = 40
        let r = try #require(try await BenchRunner(config: config, codec: WordStandInCodec()).run().first)
        print(String(format: "client capacity (server in the same process, 2 shared cores): %.0f req/s achieved, %.0f chunks/s; process CPU %.0f%% of one core, %.1f µs/chunk; one-core estimate %.0f req/s",
                     r.metrics.requestThroughput, r.metrics.outputThroughput, r.overhead.cpuUtilization * 100,
                     r.overhead.cpuMicrosPerChunk, r.overhead.sustainableRequestRate))
        #expect(r.metrics.completed == 640)
        #expect(r.metrics.requestThroughput > 50)
    }
}
