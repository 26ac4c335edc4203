import AsyncHTTPClient
import Foundation

/// Settings of one `riptide bench` sweep.
public struct BenchConfig: Sendable {
    public var baseURL: String
    public var model: String?
    public var apiKey: String?
    public var inputLength: Int
    public var outputLength: Int
    public var concurrencies: [Int]
    public var rangeRatio = 0.8
    public var devices = 1
    public var label = "riptide"
    public var hardware = "cpu"
    public var framework = "riptide"
    public var precision = "bf16"
    public var seed: UInt64 = 0
    /// Prompts per point = conc × this (InferenceX: 10).
    public var promptsPerConcurrency = 10
    /// Warmup requests = conc × this (InferenceX: 2).
    public var warmupsPerConcurrency = 2
    public var showProgress = true

    public init(baseURL: String, inputLength: Int, outputLength: Int, concurrencies: [Int]) {
        self.baseURL = baseURL; self.inputLength = inputLength
        self.outputLength = outputLength; self.concurrencies = concurrencies
    }
}

/// Result of one concurrency point: the saved row plus the client's self-measurement.
public struct PointResult: Sendable {
    public var row: ResultRow
    public var metrics: PointMetrics
    public var overhead: ClientOverhead
}

/// Drives the sweep: per point, make conc×10 prompts (seed 0), warm up with 2×conc copies of
/// prompt 0, then run a closed loop that keeps exactly `conc` requests in flight.
public struct BenchRunner: Sendable {
    public let config: BenchConfig
    public let codec: any PromptCodec

    public init(config: BenchConfig, codec: any PromptCodec) {
        self.config = config; self.codec = codec
    }

    public func run(date: String = ResultRow.today(),
                    onPoint: @Sendable (PointResult) -> Void = { _ in }) async throws -> [PointResult] {
        let http = CompletionsClient.makeHTTPClient(maxConnections: config.concurrencies.max() ?? 1)
        do {
            let model: String
            if let m = config.model { model = m } else {
                model = try await CompletionsClient.discoverModel(http: http, baseURL: config.baseURL)
            }
            let client = CompletionsClient(http: http, baseURL: config.baseURL, model: model, apiKey: config.apiKey)
            var results: [PointResult] = []
            for conc in config.concurrencies {
                let result = await runPoint(conc: conc, client: client, date: date)
                onPoint(result)
                results.append(result)
            }
            try await http.shutdown()
            return results
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    func runPoint(conc: Int, client: CompletionsClient, date: String) async -> PointResult {
        let generator = PromptGenerator(inputLength: config.inputLength, outputLength: config.outputLength,
                                        rangeRatio: config.rangeRatio, seed: config.seed)
        let prompts = generator.make(count: max(conc * config.promptsPerConcurrency, 1), codec: codec)
        let warmup = Array(repeating: prompts[0], count: conc * config.warmupsPerConcurrency)
        _ = await closedLoop(warmup, conc: conc, client: client, title: nil)

        let cpu0 = ClientOverhead.processCPUSeconds()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let outcomes = await closedLoop(prompts, conc: conc, client: client, title: "conc \(conc)")
        let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let cpu = ClientOverhead.processCPUSeconds() - cpu0

        let metrics = PointMetrics(outcomes: outcomes, duration: wall)
        let overhead = ClientOverhead(cpuSeconds: cpu, wallSeconds: wall, requests: outcomes.count,
                                      chunks: outcomes.reduce(0) { $0 + $1.itls.count + ($1.success ? 1 : 0) })
        let row = ResultRow(config: config, conc: conc, date: date, model: client.model,
                            metrics: metrics, overhead: overhead)
        return PointResult(row: row, metrics: metrics, overhead: overhead)
    }

    /// `asyncio.Semaphore(conc)` equivalent: start `conc` tasks, start the next as each finishes.
    func closedLoop(_ prompts: [BenchPrompt], conc: Int, client: CompletionsClient,
                    title: String?) async -> [RequestOutcome] {
        var outcomes = [RequestOutcome](repeating: RequestOutcome(), count: prompts.count)
        var bar = ProgressBar(total: prompts.count, title: title ?? "",
                              enabled: title != nil && config.showProgress && isatty(STDERR_FILENO) != 0)
        let codec = self.codec
        await withTaskGroup(of: (Int, RequestOutcome).self) { group in
            var next = 0
            func launch() {
                let i = next
                next += 1
                group.addTask { (i, await client.send(prompts[i], codec: codec)) }
            }
            while next < min(conc, prompts.count) { launch() }
            var failed = 0
            while let (i, outcome) = await group.next() {
                outcomes[i] = outcome
                if !outcome.success { failed += 1 }
                bar.advance(failed: failed)
                if next < prompts.count { launch() }
            }
        }
        return outcomes
    }
}
