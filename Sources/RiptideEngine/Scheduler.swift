import RiptideModel
import RiptideTokenizer

/// The engine thread's state and its scheduling round (SGLang's scheduler, nano-vllm's shape):
/// admit waiting sequences while memory and slots allow, plan one batch of decodes plus prefill
/// chunks, make room for its growth (evict snapshots, else retract the newest sequence), run it,
/// then sample and emit. Engine-thread only.
final class Scheduler: @unchecked Sendable {  // confined to the engine thread after init
    let model: Transformer
    let tokenizer: Tokenizer
    let config: EngineConfig
    let contextLength: Int
    var waiting: [Sequence] = []
    var running: [Sequence] = []
    var groups: [Int: RequestGroup] = [:]
    var memory: StateMemory
    var cache = PrefixCache()
    var counters = EngineStats()
    /// Per-phase seconds of the last steps (scheduling, forward, sampling and output).
    var profile = StepProfile()
    /// Seconds inside the samplers, summed.
    var samplingSeconds = 0.0

    init(model: Transformer, tokenizer: Tokenizer, config: EngineConfig, contextLength: Int) {
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.contextLength = contextLength
        memory = StateMemory(capacity: config.stateMemoryBytes)
    }

    var isIdle: Bool { waiting.isEmpty && running.isEmpty }

    // MARK: Memory projections

    /// State bytes of one sequence after `tokens` tokens.
    func stateBytes(_ tokens: Int) -> Int { SequenceState.bytes(config: model.config, tokens: tokens, mtp: false) }

    /// What admission reserves for a sequence: its state at its current tokens plus the projected
    /// share of the output still to come.
    func projectedBytes(_ s: Sequence) -> Int {
        let remaining = max(0, s.params.maxTokens - s.outputCount)
        let copies = s.group.forked ? 1 : s.params.n
        return copies * stateBytes(min(contextLength, s.tokens.count + Int((Double(remaining) * config.projectedOutputFraction).rounded(.up))))
    }

    /// Bytes a request needs at the very least: every choice at its full length.
    func minimumBytes(_ r: GenerationRequest) -> Int {
        r.sampling.n * stateBytes(min(contextLength, r.promptTokens.count + r.sampling.maxTokens))
    }

    /// Frees prefix snapshots (least recently used first) until `bytes` more fit; false if they cannot.
    func makeRoom(_ bytes: Int) -> Bool {
        while memory.free < bytes {
            guard let key = cache.evictOldest() else { return false }
            memory.release(key)
        }
        return true
    }

    // MARK: Admission

    /// Moves waiting sequences to running while slots and projected memory allow.
    func admit(now: Double) {
        var committed = running.reduce(0) { $0 + projectedBytes($1) }
        while running.count < config.maxRunningRequests, !waiting.isEmpty {
            let i = config.schedulePolicy == .lpm ? longestPrefixWaiting() : 0
            let s = waiting[i]
            let need = projectedBytes(s)
            guard committed + need <= memory.capacity else { break }
            var state = model.newSequence(mtp: false)
            s.computed = 0
            if config.prefixCache, let hit = cache.longestMatch(s.tokens, now: now) {
                state = hit.state.copy()
                s.computed = hit.length
            }
            guard makeRoom(state.bytes) else { break }
            waiting.remove(at: i)
            s.state = state
            memory.charge(s.memoryKey, bytes: state.bytes)
            committed += need
            running.append(s)
            counters.peakRunning = max(counters.peakRunning, running.count)
            if s.group.admitted == nil {
                s.group.admitted = now
                s.group.cachedTokens = s.computed
                counters.promptTokens += s.promptCount
                counters.cachedPromptTokens += s.computed
                s.group.continuation.yield(.started(cachedTokens: s.computed))
            }
        }
    }

    private func longestPrefixWaiting() -> Int {
        guard config.prefixCache else { return 0 }
        var best = 0, bestLength = -1
        for (i, s) in waiting.enumerated() {
            let length = cache.matchLength(s.tokens)
            if length > bestLength { best = i; bestLength = length }
        }
        return best
    }

    // MARK: Planning

    /// The prompt boundary where a snapshot is taken: the prompt's last multiple of 128.
    func promptBoundary(_ s: Sequence) -> Int { s.promptCount / PrefixCache.block * PrefixCache.block }

    /// One step's work: every decode (1 token) and prefill chunks within the token budget. A step
    /// that decodes gives each prompt at most `chunkedPrefillSize` tokens, which bounds how long one
    /// step holds the decodes back; a step without decodes stalls no one, and its prompts take the
    /// whole budget (fewer, larger chunks read the weights fewer times).
    func plan(decodeOnly: Bool) -> [(Sequence, Int)] {
        var work: [(Sequence, Int)] = []
        var budget = config.maxPrefillTokens
        for s in running where s.pending == 1 { work.append((s, 1)) }
        guard !decodeOnly else { return work }
        let chunk = work.isEmpty ? max(config.chunkedPrefillSize, config.maxPrefillTokens) : config.chunkedPrefillSize
        for s in running where s.pending > 1 && budget > 0 {
            var n = config.chunkedPrefillSize > 0 ? min(s.pending, chunk, budget) : s.pending
            if config.chunkedPrefillSize == 0 && n > budget && work.contains(where: { $0.1 > 1 }) { continue }
            let boundary = promptBoundary(s)
            if config.prefixCache, s.computed < boundary, s.computed + n > boundary { n = boundary - s.computed }
            work.append((s, n))
            budget -= n
        }
        return work
    }

    /// Makes room for the batch's growth: evicts snapshots, then retracts the newest sequences
    /// (which leave the batch and wait to be recomputed) until what remains fits.
    func fitGrowth(_ work: inout [(Sequence, Int)]) {
        while true {
            let growth = work.reduce(0) { $0 + stateBytes($1.0.computed + $1.1) - stateBytes($1.0.computed) }
            if makeRoom(growth) || running.count <= 1 { return }
            let victim = running.removeLast()
            retract(victim)
            work.removeAll { $0.0 === victim }
        }
    }

    /// Frees a running sequence's state; it waits at the front and is recomputed later (prompt and
    /// output so far), with identical output since its sampler keeps its place.
    func retract(_ s: Sequence) {
        s.state = nil
        s.computed = 0
        s.boundarySnapshot = nil
        memory.release(s.memoryKey)
        waiting.insert(s, at: 0)
        counters.retractions += 1
    }
}

/// Seconds spent per phase, summed since the counters were last read: scheduling (admission,
/// planning, memory, and the bookkeeping after the forward), the forward, and the samplers.
public struct StepProfile: Sendable {
    public var schedule = 0.0, forward = 0.0, sample = 0.0
    public var steps = 0, rows = 0
    /// One record per step when `EngineConfig.recordSteps` is on.
    public var records: [StepRecord] = []
    public init() {}

    mutating func add(_ o: StepProfile) {
        schedule += o.schedule; forward += o.forward; sample += o.sample; steps += o.steps; rows += o.rows
        records += o.records
    }
}

/// One step as the benchmark sees it.
public struct StepRecord: Sendable {
    /// Rows computed, and how many of them were single-token decodes.
    public var rows: Int, decodes: Int
    public var scheduleSeconds: Double, forwardSeconds: Double, sampleSeconds: Double
    /// Distinct routed experts per main MoE layer over the step's rows.
    public var uniqueExperts: [Int]
    /// State bytes of the sequences in the step.
    public var stateBytes: Int
    /// The forward's time by part (attention, MoE, head).
    public var forwardParts: ForwardSeconds
}
