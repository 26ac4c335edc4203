import Foundation

// Typed messages between the engine and its callers (server, CLI, tests). Everything here is a
// value type and Sendable: requests go in through `Engine.submit`, events come out on the
// request's AsyncStream.

/// How one request samples and when it stops (OpenAI/SGLang semantics).
public struct SamplingParams: Sendable, Equatable {
    /// 0 is greedy.
    public var temperature: Float = 1
    public var topP: Float = 1
    /// 0 or less: off.
    public var topK: Int = 0
    public var minP: Float = 0
    public var frequencyPenalty: Float = 0
    public var presencePenalty: Float = 0
    /// 1: off. Divides positive logits (multiplies negative ones) of tokens already seen (prompt and output).
    public var repetitionPenalty: Float = 1
    /// Added to the logits of these token ids before sampling.
    public var logitBias: [Int: Float] = [:]
    /// Reproduces the request whatever else runs; nil draws a seed at random.
    public var seed: UInt64? = nil
    public var maxTokens: Int = 16
    /// Generation stops after any of these ids (EOS is added unless `ignoreEOS`).
    public var stopTokenIds: Set<Int> = []
    /// Generation stops before any of these strings; they are not part of the output.
    public var stop: [String] = []
    public var ignoreEOS = false
    /// Independent completions of one prompt, forked from one prefill.
    public var n = 1
    /// nil: no logprobs; k ≥ 0: the sampled token's logprob plus the top k alternatives.
    public var logprobs: Int? = nil
    /// Leave special tokens (BOS, EOS, chat markers) out of the text.
    public var skipSpecialTokens = true
    /// Tests only: emit these ids instead of sampling (the model still runs). The server accepts it
    /// only when started with test hooks on.
    public var forcedOutput: [Int]? = nil

    public init() {}
}

/// One request as the engine sees it: token ids in.
public struct GenerationRequest: Sendable {
    public var id: String
    public var promptTokens: [Int]
    public var sampling: SamplingParams

    public init(id: String, promptTokens: [Int], sampling: SamplingParams) {
        self.id = id
        self.promptTokens = promptTokens
        self.sampling = sampling
    }
}

public enum FinishReason: String, Sendable, Equatable {
    case stop, length, abort
}

/// A token's log-probability and its top alternatives.
public struct TokenLogprob: Sendable, Equatable {
    public var token: Int
    public var logprob: Float
    /// The most likely tokens at this position, most likely first.
    public var top: [(token: Int, logprob: Float)]

    public init(token: Int, logprob: Float, top: [(token: Int, logprob: Float)]) {
        self.token = token
        self.logprob = logprob
        self.top = top
    }

    public static func == (a: TokenLogprob, b: TokenLogprob) -> Bool {
        a.token == b.token && a.logprob == b.logprob && a.top.map(\.token) == b.top.map(\.token)
            && a.top.map(\.logprob) == b.top.map(\.logprob)
    }
}

/// New output of one choice: the ids sampled since the last delta and the text they complete.
/// Text is held back while it could still become a stop string or an incomplete UTF-8 character.
public struct TokenDelta: Sendable, Equatable {
    public var choice: Int
    public var tokens: [Int]
    public var text: String
    /// One entry per token when the request asked for logprobs.
    public var logprobs: [TokenLogprob]
}

public struct Usage: Sendable, Equatable {
    public var promptTokens: Int
    /// Summed over the n choices.
    public var completionTokens: Int
    /// Prompt tokens served from the prefix cache instead of computed.
    public var cachedTokens: Int
}

/// Wall-clock seconds of a request's phases.
public struct Timings: Sendable, Equatable {
    /// Submitted → first scheduled.
    public var queue: Double
    /// Submitted → first token.
    public var timeToFirstToken: Double
    /// Submitted → finished.
    public var total: Double
    /// Gaps between consecutive tokens of choice 0.
    public var interTokenGaps: [Double]
}

public enum EngineEvent: Sendable, Equatable {
    /// The request was scheduled; `cachedTokens` prompt tokens came from the prefix cache.
    case started(cachedTokens: Int)
    case delta(TokenDelta)
    /// One choice finished; `matchedStop` is the stop string or token id that ended it, if any.
    case finished(choice: Int, reason: FinishReason, matchedStop: String?)
    /// Every choice finished; the stream ends after this.
    case completed(Usage, Timings)
    /// The request failed; the stream ends after this.
    case failed(EngineError)
}

public enum EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The prompt plus max_tokens exceeds the context (HTTP 400).
    case contextLength(requested: Int, limit: Int)
    /// The request could never fit in state memory (HTTP 400).
    case tooLarge(needBytes: Int, capacityBytes: Int)
    case invalidRequest(String)
    /// The waiting queue is full (HTTP 429).
    case queueFull(limit: Int)
    /// The engine is draining or stopped (HTTP 503).
    case shuttingDown
    case internalError(String)

    public var description: String {
        switch self {
        case .contextLength(let r, let l):
            return "This model's maximum context length is \(l) tokens. However, you requested \(r) tokens (prompt plus max_tokens)."
        case .tooLarge(let need, let cap):
            return "the request needs \(need) bytes of state memory but the engine has \(cap) in all (raise --state-memory)"
        case .invalidRequest(let m): return m
        case .queueFull(let l): return "the server is busy: \(l) requests are already waiting; retry later"
        case .shuttingDown: return "the server is shutting down"
        case .internalError(let m): return "internal error: \(m)"
        }
    }
}

/// Seconds of every step so far by part, and the rows computed (`/metrics`' `riptide:` gauges).
public struct StepSeconds: Sendable {
    public var attention = 0.0, moe = 0.0, head = 0.0, forwardOther = 0.0, sampling = 0.0, scheduler = 0.0
    public var rows = 0
    /// Steps whose rows are all single-token decodes, and steps that also compute prompt tokens:
    /// a decode step's time against its own bound is the decode-step efficiency, which the mean
    /// inter-token latency would blur with the prompt chunks that share some steps.
    public var decodeOnly = StepKindTotals(), withPrompt = StepKindTotals()
    public init() {}
}

/// Totals over the steps of one kind: their count, wall seconds (scheduling, forward and sampling),
/// single-token decode rows, and prompt tokens.
public struct StepKindTotals: Sendable {
    public var steps = 0, seconds = 0.0, decodeRows = 0, promptRows = 0
    public init() {}
}

/// A snapshot of the engine's counters, for /metrics, /health and the benchmarks.
public struct EngineStats: Sendable {
    public var running = 0
    public var queued = 0
    /// State-memory bytes in use by running requests, and by cached prefix snapshots.
    public var requestBytes = 0, cacheBytes = 0
    public var capacityBytes = 0
    public var promptTokens = 0, generationTokens = 0, cachedPromptTokens = 0
    public var finishedRequests = 0, abortedRequests = 0, retractions = 0
    /// Time of the scheduler loop's last iteration (monotonic seconds, `Engine.now()`).
    public var lastProgress: Double = 0
    public var steps = 0
    /// The most requests that ever ran at once.
    public var peakRunning = 0
    /// Where the steps' time went, summed since the engine started.
    public var stepSeconds = StepSeconds()
    public var tokenUsage: Double { capacityBytes == 0 ? 0 : Double(requestBytes + cacheBytes) / Double(capacityBytes) }
    public var cacheHitRate: Double { promptTokens == 0 ? 0 : Double(cachedPromptTokens) / Double(promptTokens) }
    public init() {}
}
