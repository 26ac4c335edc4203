import Foundation
import RiptideModel
import RiptideTokenizer

/// The serving engine: owns the model and every sequence's state on one dedicated thread (not
/// Swift's cooperative pool; the model's worker pool has its own threads). Requests come in as
/// typed messages through `submit`; each one's events leave on its own AsyncStream.
public final class Engine: @unchecked Sendable {  // mutable state sits behind `lock` or on the engine thread
    public let model: Transformer
    public let tokenizer: Tokenizer
    public let config: EngineConfig
    /// The context limit in force (config or max_position_embeddings).
    public let contextLength: Int

    private let mailbox = Mailbox()
    private var lock: NSCondition { mailbox.lock }
    private let scheduler: Scheduler  // engine thread only

    public init(model: Transformer, tokenizer: Tokenizer, config: EngineConfig) throws {
        guard config.maxRunningRequests > 0, config.maxPrefillTokens > 0, config.chunkedPrefillSize >= 0,
              config.decodeSteps > 0, config.stateMemoryBytes > 0, config.maxQueuedRequests >= 0 else {
            throw EngineError.invalidRequest("engine settings must be positive (chunked prefill size may be 0: off)")
        }
        let limit = min(config.contextLength ?? model.config.maxPositionEmbeddings, model.config.maxPositionEmbeddings)
        guard limit > 0 else { throw EngineError.invalidRequest("the context length must be positive") }
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        contextLength = limit
        scheduler = Scheduler(model: model, tokenizer: tokenizer, config: config, contextLength: limit)
        mailbox.published.capacityBytes = config.stateMemoryBytes
        mailbox.published.lastProgress = Self.now()
        // The thread holds the mailbox and the scheduler, not the engine, so dropping the engine stops it.
        let (box, sched, timeout) = (mailbox, scheduler, config.requestTimeout)
        let t = Thread { Self.loop(box, sched, timeout: timeout) }
        t.name = "riptide-engine"
        t.stackSize = 16 << 20
        t.start()
    }

    deinit {
        lock.lock(); mailbox.stopping = true; lock.signal(); lock.unlock()
    }

    /// Queues a request; its events arrive on the returned stream, which ends after `.completed`
    /// or `.failed`. Throws at once for what can never run (too long, too large, queue full, draining).
    public func submit(_ request: GenerationRequest) throws -> AsyncStream<EngineEvent> {
        try submit([request])[0]
    }

    /// Queues several requests at once: the scheduler sees them all in the same round. Throws
    /// (and queues none) if any of them can never run.
    public func submit(_ requests: [GenerationRequest]) throws -> [AsyncStream<EngineEvent>] {
        for r in requests { try validate(r) }
        lock.lock()
        defer { lock.unlock() }
        guard !mailbox.draining && !mailbox.stopping else { throw EngineError.shuttingDown }
        guard mailbox.inbox.count + mailbox.published.queued + requests.count <= config.maxQueuedRequests else {
            throw EngineError.queueFull(limit: config.maxQueuedRequests)
        }
        let streams = requests.map { request in
            let (stream, continuation) = AsyncStream<EngineEvent>.makeStream(bufferingPolicy: .unbounded)
            mailbox.nextKey += 1
            let key = mailbox.nextKey
            let group = RequestGroup(key: key, request: request, seed: request.sampling.seed ?? UInt64.random(in: 0...UInt64.max),
                                     continuation: continuation, submitted: Self.now())
            // A consumer that goes away (client disconnect, cancelled task) aborts the request.
            continuation.onTermination = { [weak self] reason in
                if case .cancelled = reason { self?.abort(key: key) }
            }
            mailbox.inbox.append(group)
            return stream
        }
        lock.signal()
        return streams
    }

    /// Throws for a request that can never run.
    private func validate(_ request: GenerationRequest) throws {
        let p = request.sampling
        guard !request.promptTokens.isEmpty else { throw EngineError.invalidRequest("the prompt has no tokens") }
        if let bad = request.promptTokens.first(where: { !(0..<model.config.vocabSize).contains($0) }) {
            throw EngineError.invalidRequest("token id \(bad) is outside the vocabulary (0..<\(model.config.vocabSize))")
        }
        guard p.maxTokens >= 1 else { throw EngineError.invalidRequest("max_tokens must be at least 1") }
        guard p.n >= 1 && p.n <= 128 else { throw EngineError.invalidRequest("n must be between 1 and 128") }
        guard request.promptTokens.count + p.maxTokens <= contextLength else {
            throw EngineError.contextLength(requested: request.promptTokens.count + p.maxTokens, limit: contextLength)
        }
        let need = scheduler.minimumBytes(request)
        guard need <= config.stateMemoryBytes else { throw EngineError.tooLarge(needBytes: need, capacityBytes: config.stateMemoryBytes) }
    }

    /// Cancels a request, queued or running; its memory is freed at once and its stream gets
    /// `.finished(reason: .abort)` then `.completed`. Unknown ids are ignored.
    public func abort(_ id: String) {
        lock.lock(); mailbox.aborts.append(id); lock.signal(); lock.unlock()
    }

    private func abort(key: Int) {
        lock.lock(); mailbox.abortKeys.append(key); lock.signal(); lock.unlock()
    }

    /// Drops every prefix snapshot; false if requests are running or queued (SGLang's rule).
    /// Waits for the engine thread without blocking the caller's thread.
    public func flushCache() async -> Bool {
        requestFlush()
        while true {
            if let result = flushOutcome() { return result }
            try? await Task.sleep(nanoseconds: 2_000_000)
        }
    }

    private func requestFlush() {
        lock.lock(); defer { lock.unlock() }
        mailbox.flushRequested = true
        mailbox.flushResult = nil
        lock.signal()
    }

    private func flushOutcome() -> Bool? {
        lock.lock(); defer { lock.unlock() }
        return mailbox.threadDone ? false : mailbox.flushResult
    }

    public func stats() -> EngineStats {
        lock.lock(); defer { lock.unlock() }
        return mailbox.published
    }

    /// Phase seconds summed since the last call (the benchmark's profile).
    public func takeProfile() -> StepProfile {
        lock.lock(); defer { lock.unlock() }
        let p = mailbox.publishedProfile
        mailbox.publishedProfile = StepProfile()
        return p
    }

    /// Stops admission: later submits throw `.shuttingDown`; running and queued requests go on.
    public func beginDrain() {
        lock.lock(); mailbox.draining = true; lock.unlock()
    }

    /// Returns when no request is queued or running.
    public func waitUntilIdle() async {
        while !isIdle() { try? await Task.sleep(nanoseconds: 5_000_000) }
    }

    private func isIdle() -> Bool {
        lock.lock(); defer { lock.unlock() }
        return mailbox.inbox.isEmpty && mailbox.published.running + mailbox.published.queued == 0
    }

    /// Ends the engine thread after aborting whatever is left.
    public func shutdown() {
        lock.lock()
        mailbox.stopping = true
        lock.signal()
        while !mailbox.threadDone { lock.wait() }
        lock.unlock()
    }

    /// Problems found by the memory-accounting check, which runs whenever the engine goes idle
    /// (empty: every byte accounted for).
    public func checkInvariants() -> [String] {
        lock.lock(); defer { lock.unlock() }
        return mailbox.violations
    }

    /// Monotonic seconds.
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    // MARK: The engine thread

    /// What the callers and the engine thread share, behind `lock`.
    final class Mailbox: @unchecked Sendable {
        let lock = NSCondition()
        var inbox: [RequestGroup] = []
        var aborts: [String] = [], abortKeys: [Int] = []
        var flushRequested = false, flushResult: Bool?
        var draining = false, stopping = false, threadDone = false
        var published = EngineStats()
        var publishedProfile = StepProfile()
        var violations: [String] = []
        var nextKey = 0
    }

    private static func loop(_ box: Mailbox, _ s: Scheduler, timeout: Double?) {
        let lock = box.lock
        var wasIdle = true
        while true {
            lock.lock()
            while box.inbox.isEmpty && box.aborts.isEmpty && box.abortKeys.isEmpty && !box.flushRequested && !box.stopping && s.isIdle {
                box.published.lastProgress = now()
                _ = lock.wait(until: Date(timeIntervalSinceNow: 1))
            }
            let arrivals = box.inbox, cancelIds = box.aborts, cancelKeys = box.abortKeys
            let flush = box.flushRequested, stop = box.stopping
            box.inbox = []; box.aborts = []; box.abortKeys = []; box.flushRequested = false
            box.published.queued += arrivals.count  // until the next publish, so that no one sees them nowhere
            lock.unlock()

            let t = now()
            for g in arrivals { s.enqueue(g) }
            for id in cancelIds { for g in Array(s.groups.values) where g.request.id == id { s.abort(g) } }
            for key in cancelKeys { if let g = s.groups[key] { s.abort(g) } }
            if let timeout { for g in Array(s.groups.values) where t - g.submitted > timeout { s.abort(g) } }
            if stop { for g in Array(s.groups.values) { s.abort(g) } }
            let flushed: Bool? = flush ? s.flushCache() : nil

            do {
                _ = try s.round(now: t)
            } catch {
                // A model error fails the running requests, not the engine.
                for g in Array(s.groups.values) where g.admitted != nil {
                    g.continuation.yield(.failed(.internalError("\(error)")))
                    s.abort(g)
                }
            }
            var problems: [String] = []
            if s.isIdle && !wasIdle { problems = s.audit() }
            wasIdle = s.isIdle

            lock.lock()
            if let flushed { box.flushResult = flushed; lock.broadcast() }
            if !problems.isEmpty {
                box.violations += problems
                FileHandle.standardError.write(Data(("riptide engine: memory accounting: " + problems.joined(separator: "; ") + "\n").utf8))
            }
            box.published = s.publishedStats()
            box.publishedProfile.add(s.profile)
            s.profile = StepProfile()
            if stop && s.isIdle {
                box.threadDone = true
                lock.broadcast()
                lock.unlock()
                return
            }
            lock.unlock()
        }
    }
}

extension Scheduler {
    /// A new request: choice 0 waits (the others fork from it after the prompt).
    func enqueue(_ g: RequestGroup) {
        groups[g.key] = g
        let r = g.request
        let sampler = TokenSampler(params: r.sampling, seed: g.seed, vocabSize: model.config.vocabSize, promptTokens: r.promptTokens, choice: 0)
        let s = Sequence(group: g, choice: 0, tokens: r.promptTokens, promptCount: r.promptTokens.count, sampler: sampler,
                         tokenizer: tokenizer, memoryKey: memory.newKey())
        g.sequences = [s]
        waiting.append(s)
    }

    func flushCache() -> Bool {
        guard isIdle else { return false }
        for key in cache.removeAll() { memory.release(key) }
        return true
    }

    func publishedStats() -> EngineStats {
        var st = counters
        st.running = running.count
        st.queued = waiting.count
        st.capacityBytes = memory.capacity
        let cached = cache.bytes
        st.cacheBytes = cached
        st.requestBytes = memory.used - cached
        st.lastProgress = Engine.now()
        return st
    }
}
