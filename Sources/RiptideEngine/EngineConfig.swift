/// The engine's knobs (SGLang's names where they exist).
public struct EngineConfig: Sendable {
    /// Most requests decoding or prefilling at once (`--max-running-requests`).
    public var maxRunningRequests = 64
    /// Most requests waiting for admission; more get `EngineError.queueFull` (HTTP 429).
    public var maxQueuedRequests = 4096
    /// Most prompt tokens computed in one step over all requests (`--max-prefill-tokens`).
    public var maxPrefillTokens = 4096
    /// Largest prompt chunk of one request in a step that also decodes (`--chunked-prefill-size`;
    /// 0: whole prompts). A step without decodes gives a prompt up to `maxPrefillTokens`. A chunk
    /// beside decodes stalls them for what it adds to the step, and on an MoE a small chunk adds
    /// the most per token: its rows touch nearly every routed expert, so each chunk reads them all
    /// again. On flash4 at 2 cores (Zen 5), ISL 512 conc 2, three interleaved pairs: a prompt token
    /// added 5.4-6.0 ms to a step in 64-token chunks, 4.3-4.5 ms as one 468-535-token chunk. 512
    /// keeps most of that gain while a chunk holds decodes back ~2 s there. With ~15 decodes the
    /// gain is gone (their rows already read most experts): conc 16 gave 164 tok/s per device at
    /// 2.44 per user against 64's 167 at 2.98, one run each.
    public var chunkedPrefillSize = 512
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
