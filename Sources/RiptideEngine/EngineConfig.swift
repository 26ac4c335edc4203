/// The engine's knobs (SGLang's names where they exist).
public struct EngineConfig: Sendable {
    /// Most requests decoding or prefilling at once (`--max-running-requests`).
    public var maxRunningRequests = 64
    /// Most requests waiting for admission; more get `EngineError.queueFull` (HTTP 429).
    public var maxQueuedRequests = 4096
    /// Most prompt tokens computed in one step over all requests (`--max-prefill-tokens`).
    public var maxPrefillTokens = 4096
    /// Largest prompt chunk of one request in a step that also decodes (`--chunked-prefill-size`;
    /// 0: whole prompts). A step without decodes gives a prompt up to `maxPrefillTokens`. On flash4
    /// at 2 cores, ISL 512 conc 4: 512 gave 66.2 tok/s per device at 4.84 tok/s per user, 64 gave
    /// 75.9 at 6.99 (each 64-token chunk holds the running decodes back ~0.6 s instead of ~5 s).
    /// Conc 8, one run each in one half hour: 64 gave 83.1 tok/s per device at 2.83 per user, 128
    /// 80.0 at 2.79, 256 82.0 at 2.72 (TTFT p50 15.4, 11.1, 9.4 s).
    public var chunkedPrefillSize = 64
    public enum SchedulePolicy: String, Sendable, CaseIterable { case fcfs, lpm }
    public var schedulePolicy: SchedulePolicy = .fcfs
    /// Decode steps per scheduling round (`--decode-steps`).
    public var decodeSteps = 1
    /// Bytes for every request's state and the prefix snapshots (`--state-memory`).
    public var stateMemoryBytes = 4 << 30
    /// Context limit; nil: the model's max_position_embeddings (`--context-length`).
    public var contextLength: Int? = nil
    /// The share of a request's remaining max_tokens that admission reserves memory for (SGLang's
    /// new-token ratio). Below 1, more requests run at once and a decode that cannot grow retracts
    /// the newest request (`--projected-output-fraction`).
    public var projectedOutputFraction = 0.5
    /// Keep state snapshots for prefix reuse (`--disable-prefix-cache` turns it off).
    public var prefixCache = true
    /// Seconds a request may take from submission before it is aborted; nil: no limit.
    public var requestTimeout: Double? = nil

    /// Keep a `StepRecord` per step, with the routed experts of each layer (benchmarks).
    public var recordSteps = false

    public init() {}
}
