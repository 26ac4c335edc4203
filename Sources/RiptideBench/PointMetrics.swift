import Foundation

/// Aggregates of one concurrency point (method §2). Latencies here are in milliseconds, as in
/// `benchmark_serving.py`'s raw JSON; `ResultRow` converts to InferenceX agg units (seconds).
public struct PointMetrics: Sendable {
    public var numPrompts: Int
    public var completed: Int
    public var failed: Int
    public var duration: Double
    public var totalInputTokens: Int
    public var totalOutputTokens: Int
    public var requestThroughput: Double
    public var outputThroughput: Double
    public var totalTokenThroughput: Double
    public var inputThroughput: Double { totalTokenThroughput - outputThroughput }
    public var ttftMs: Summary
    public var tpotMs: Summary
    public var itlMs: Summary
    public var e2elMs: Summary
    /// 1000 / median TPOT (ms): the chart's x axis.
    public var medianInteractivity: Double { tpotMs.median > 0 ? 1000 / tpotMs.median : 0 }
    /// More than 5% of requests failed (completed / num_prompts < 0.95).
    public var pointFailed: Bool { numPrompts == 0 || Double(completed) / Double(numPrompts) < 0.95 }
    public var firstError: String?

    public init(outcomes: [RequestOutcome], duration: Double) {
        let ok = outcomes.filter(\.success)
        numPrompts = outcomes.count
        completed = ok.count
        failed = outcomes.count - ok.count
        self.duration = duration
        totalInputTokens = ok.reduce(0) { $0 + $1.promptLength }
        totalOutputTokens = ok.reduce(0) { $0 + $1.outputTokens }
        let d = max(duration, 1e-9)
        requestThroughput = Double(completed) / d
        outputThroughput = Double(totalOutputTokens) / d
        totalTokenThroughput = Double(totalInputTokens + totalOutputTokens) / d
        ttftMs = Summary(ok.map { $0.ttft * 1000 })
        tpotMs = Summary(ok.compactMap { $0.tpot.map { $0 * 1000 } })
        itlMs = Summary(ok.flatMap { $0.itls.map { $0 * 1000 } })
        e2elMs = Summary(ok.map { $0.e2el * 1000 })
        firstError = outcomes.first { !$0.success }?.error
    }
}
