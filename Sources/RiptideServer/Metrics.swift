import Foundation
import CoreMetrics
import Metrics
import Prometheus
import RiptideEngine

/// `/metrics` in Prometheus text format with SGLang's `sglang:` names (so its dashboards and
/// sglang-router read them), through swift-metrics with a swift-prometheus factory bound to
/// this server's own registry (no process-wide bootstrap).
///
/// Request metrics are recorded as requests finish; engine gauges are read at scrape time.
/// `sglang:num_retracted_reqs` is the number of retractions since the previous scrape (SGLang's
/// gauge counts the last batch's), `sglang:num_retracted_requests_total` their running total.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    // Histograms (seconds).
    private let timeToFirstToken: Recorder
    private let interTokenLatency: Recorder
    private let endToEndLatency: Recorder
    private let queueTime: Recorder
    private let timePerOutputToken: Recorder
    // Counters.
    private let promptTokens: CoreMetrics.Counter
    private let generationTokens: CoreMetrics.Counter
    private let cachedTokens: CoreMetrics.Counter
    private let requests: CoreMetrics.Counter
    private let abortedRequests: CoreMetrics.Counter
    private let retractedTotal: CoreMetrics.Counter
    // Gauges.
    private let running: Meter
    private let queued: Meter
    private let tokenUsage: Meter
    private let cacheHitRate: Meter
    private let retractedRecently: Meter
    private let generationThroughput: Meter
    // Engine step time since start by part (`riptide:`; seconds, held as gauges set at scrape time).
    private let steps: Meter, stepRows: Meter
    private static let stepParts = ["attention", "moe", "head", "forward_other", "sampling", "scheduler"]
    private let stepSeconds: [Meter]  // one per stepParts entry
    // Per step kind ("decode": single-token decodes only; "prompt": with prompt tokens): steps,
    // seconds, decode rows and prompt rows, totals since start.
    private static let stepKinds = ["decode", "prompt"]
    private let kindSteps: [Meter], kindSeconds: [Meter], kindDecodeRows: [Meter], kindPromptRows: [Meter]

    private struct Scrape {
        var retractions = 0
        var generationTokens = 0
        var time = Engine.now()
    }
    private let lastScrape = Locked(Scrape())

    static let latencyBuckets: [Double] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
    ]
    static let requestBuckets: [Double] = [
        0.01, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 800, 1600,
    ]

    init(modelName: String) {
        var factory = PrometheusMetricsFactory(registry: registry)
        let labels = [("model_name", modelName)]
        let names = (
            ttft: "sglang:time_to_first_token_seconds", itl: "sglang:inter_token_latency_seconds",
            e2e: "sglang:e2e_request_latency_seconds", queue: "sglang:queue_time_seconds",
            tpot: "sglang:request_time_per_output_token_seconds")
        factory.valueHistogramBuckets = [
            names.ttft: Self.requestBuckets, names.itl: Self.latencyBuckets, names.e2e: Self.requestBuckets,
            names.queue: [0] + Self.requestBuckets, names.tpot: Self.latencyBuckets,
        ]
        func histogram(_ name: String) -> Recorder { Recorder(label: name, dimensions: labels, aggregate: true, factory: factory) }
        func counter(_ name: String) -> CoreMetrics.Counter { CoreMetrics.Counter(label: name, dimensions: labels, factory: factory) }
        func gauge(_ name: String) -> Meter { Meter(label: name, dimensions: labels, factory: factory) }
        timeToFirstToken = histogram(names.ttft)
        interTokenLatency = histogram(names.itl)
        endToEndLatency = histogram(names.e2e)
        queueTime = histogram(names.queue)
        timePerOutputToken = histogram(names.tpot)
        promptTokens = counter("sglang:prompt_tokens_total")
        generationTokens = counter("sglang:generation_tokens_total")
        cachedTokens = counter("sglang:cached_tokens_total")
        requests = counter("sglang:num_requests_total")
        abortedRequests = counter("sglang:num_aborted_requests_total")
        retractedTotal = counter("sglang:num_retracted_requests_total")
        running = gauge("sglang:num_running_reqs")
        queued = gauge("sglang:num_queue_reqs")
        tokenUsage = gauge("sglang:token_usage")
        cacheHitRate = gauge("sglang:cache_hit_rate")
        retractedRecently = gauge("sglang:num_retracted_reqs")
        generationThroughput = gauge("sglang:gen_throughput")
        steps = gauge("riptide:steps")
        stepRows = gauge("riptide:step_rows")
        stepSeconds = Self.stepParts.map { Meter(label: "riptide:step_seconds", dimensions: labels + [("part", $0)], factory: factory) }
        func byKind(_ name: String) -> [Meter] {
            Self.stepKinds.map { Meter(label: name, dimensions: labels + [("kind", $0)], factory: factory) }
        }
        kindSteps = byKind("riptide:steps_by_kind")
        kindSeconds = byKind("riptide:step_seconds_by_kind")
        kindDecodeRows = byKind("riptide:decode_rows_by_kind")
        kindPromptRows = byKind("riptide:prompt_rows_by_kind")
    }

    /// One engine request finished (`.completed`).
    func record(usage: Usage, timings: Timings, aborted: Bool, choices: Int) {
        requests.increment()
        if aborted { abortedRequests.increment() }
        promptTokens.increment(by: usage.promptTokens)
        generationTokens.increment(by: usage.completionTokens)
        cachedTokens.increment(by: usage.cachedTokens)
        queueTime.record(timings.queue)
        endToEndLatency.record(timings.total)
        let perChoice = usage.completionTokens / max(1, choices)
        if perChoice > 0 { timeToFirstToken.record(timings.timeToFirstToken) }
        for gap in timings.interTokenGaps { interTokenLatency.record(gap) }
        if perChoice > 1 {
            timePerOutputToken.record((timings.total - timings.timeToFirstToken) / Double(perChoice - 1))
        }
    }

    /// One engine request failed (`.failed`): counted as a request and an abort.
    func recordFailure() {
        requests.increment()
        abortedRequests.increment()
    }

    /// The text exposition, after refreshing the engine gauges.
    func render(stats: EngineStats) -> String {
        running.set(stats.running)
        queued.set(stats.queued)
        tokenUsage.set(stats.tokenUsage)
        cacheHitRate.set(stats.cacheHitRate)
        let now = Engine.now()
        let (newRetractions, throughput) = lastScrape.withLock { last -> (Int, Double) in
            let retracted = max(0, stats.retractions - last.retractions)
            let dt = now - last.time
            let rate = dt > 0 ? Double(max(0, stats.generationTokens - last.generationTokens)) / dt : 0
            last = Scrape(retractions: stats.retractions, generationTokens: stats.generationTokens, time: now)
            return (retracted, rate)
        }
        retractedRecently.set(newRetractions)
        if newRetractions > 0 { retractedTotal.increment(by: newRetractions) }
        generationThroughput.set(throughput)
        steps.set(stats.steps)
        stepRows.set(stats.stepSeconds.rows)
        let t = stats.stepSeconds
        for (meter, value) in zip(stepSeconds, [t.attention, t.moe, t.head, t.forwardOther, t.sampling, t.scheduler]) { meter.set(value) }
        for (i, kind) in [t.decodeOnly, t.withPrompt].enumerated() {
            kindSteps[i].set(kind.steps)
            kindSeconds[i].set(kind.seconds)
            kindDecodeRows[i].set(kind.decodeRows)
            kindPromptRows[i].set(kind.promptRows)
        }
        return registry.emitToString()
    }
}
