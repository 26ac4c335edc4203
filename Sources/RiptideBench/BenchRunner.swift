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
    /// A JSON object whose fields are added to every request body (e.g. llama-server's cache_prompt).
    public var extraBody: Data?
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
        let address = try ServerAddress(baseURL: config.baseURL)
        let model: String
        if let m = config.model { model = m } else { model = try await CompletionsClient.discoverModel(address) }
        let client = CompletionsClient(address: address, model: model, apiKey: config.apiKey, extraBody: config.extraBody)
        var results: [PointResult] = []
        for conc in config.concurrencies {
            let result = await runPoint(conc: conc, client: client, date: date)
            onPoint(result)
            results.append(result)
        }
        return results
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

    /// `asyncio.Semaphore(conc)` equivalent: `conc` workers, each taking the next prompt as soon as
    /// its previous request finishes, so exactly `conc` requests are in flight until the tail.
    func closedLoop(_ prompts: [BenchPrompt], conc: Int, client: CompletionsClient,
                    title: String?) async -> [RequestOutcome] {
        let collector = Collector(count: prompts.count, bar: ProgressBar(
            total: prompts.count, title: title ?? "",
            enabled: title != nil && config.showProgress && isatty(STDERR_FILENO) != 0))
        let codec = self.codec
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<min(conc, prompts.count) {
                group.addTask {
                    await client.worker(prompts: prompts, codec: codec, next: { await collector.take() },
                                        record: { await collector.record($0, $1) })
                }
            }
        }
        return await collector.outcomes
    }
}

/// Hands out prompt indices in order and gathers outcomes (one actor hop per request).
actor Collector {
    private var nextIndex = 0
    private var failed = 0
    private var bar: ProgressBar
    private(set) var outcomes: [RequestOutcome]

    init(count: Int, bar: ProgressBar) {
        outcomes = Array(repeating: RequestOutcome(), count: count)
        self.bar = bar
    }

    func take() -> Int? {
        guard nextIndex < outcomes.count else { return nil }
        defer { nextIndex += 1 }
        return nextIndex
    }

    func record(_ i: Int, _ outcome: RequestOutcome) {
        outcomes[i] = outcome
        if !outcome.success { failed += 1 }
        bar.advance(failed: failed)
    }
}
