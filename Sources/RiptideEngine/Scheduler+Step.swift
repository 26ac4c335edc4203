import RiptideModel
import RiptideTokenizer

extension Scheduler {
    /// One scheduling round: admission, then one step with prefill and `decodeSteps − 1` more
    /// decode-only steps. Returns false when there was nothing to run.
    func round(now: Double) throws -> Bool {
        let admissionStart = Engine.now()
        admit(now: now)
        var ran = false
        for i in 0..<max(1, config.decodeSteps) {
            let t0 = i == 0 ? admissionStart : Engine.now()
            var work = plan(decodeOnly: i > 0)
            fitGrowth(&work)
            if work.isEmpty { break }
            try run(work, scheduled: t0)
            ran = true
        }
        return ran
    }

    /// Runs one batch through the model and handles its outputs.
    private func run(_ work: [(Sequence, Int)], scheduled t0: Double) throws {
        let t1 = Engine.now()
        let trace = ModelTrace()  // its per-part timers cost a clock read per sublayer
        trace.recordsResidualRMS = false
        let outputs = try model.forward(work.map { s, n in
            Transformer.Request(tokens: Array(s.tokens[s.computed..<(s.computed + n)]), state: s.state!, forceIncremental: true)
        }, trace: trace)
        let t2 = Engine.now()
        let sampleBefore = samplingSeconds
        for ((s, n), out) in zip(work, outputs) {
            s.computed += n
            memory.charge(s.memoryKey, bytes: s.state!.bytes + (s.boundarySnapshot?.state.bytes ?? 0))
            takeSnapshots(s)
            if s.computed == s.tokens.count { sampleNext(s, logits: out.logits, now: t2) }
        }
        let t3 = Engine.now()
        let sampling = samplingSeconds - sampleBefore
        profile.schedule += (t1 - t0) + (t3 - t2 - sampling)
        profile.forward += t2 - t1
        profile.sample += sampling
        let parts = trace.seconds, rows = work.reduce(0) { $0 + $1.1 }
        counters.stepSeconds.attention += parts.attention
        counters.stepSeconds.moe += parts.moe
        counters.stepSeconds.head += parts.head
        counters.stepSeconds.forwardOther += (t2 - t1) - parts.attention - parts.moe - parts.head
        counters.stepSeconds.sampling += sampling
        counters.stepSeconds.scheduler += (t1 - t0) + (t3 - t2 - sampling)
        counters.stepSeconds.rows += rows
        // A decode row computes one generated token (`computed` already counts it).
        let decodes = work.filter { $0.1 == 1 && $0.0.computed > $0.0.promptCount }.count
        let promptRows = rows - decodes
        func add(_ totals: inout StepKindTotals) {
            totals.steps += 1
            totals.seconds += t3 - t0
            totals.decodeRows += decodes
            totals.promptRows += promptRows
        }
        if promptRows == 0 { add(&counters.stepSeconds.decodeOnly) } else { add(&counters.stepSeconds.withPrompt) }
        if config.recordSteps {
            let layers = trace.routedExperts.prefix(model.config.nLayers)
            profile.records.append(StepRecord(rows: rows, decodes: work.filter { $0.1 == 1 }.count,
                                              scheduleSeconds: (t1 - t0) + (t3 - t2 - sampling), forwardSeconds: t2 - t1,
                                              sampleSeconds: sampling, uniqueExperts: layers.map { Set($0).count },
                                              stateBytes: work.reduce(0) { $0 + ($1.0.state?.bytes ?? 0) },
                                              forwardParts: trace.seconds))
        }
        profile.steps += 1
        profile.rows += rows
        counters.steps += 1
    }

    /// Prefix snapshots: at the prompt's last boundary straight into the cache; at later
    /// boundaries held by the sequence, to join the cache when it finishes.
    private func takeSnapshots(_ s: Sequence) {
        guard config.prefixCache, s.computed % PrefixCache.block == 0, s.computed > 0, let state = s.state else { return }
        if s.computed == promptBoundary(s) {
            insertSnapshot(tokens: s.tokens, state: state.copy())
        } else if s.computed > s.promptCount {
            let snapshot = state.copy()
            s.boundarySnapshot = (s.computed, snapshot)
            memory.charge(s.memoryKey, bytes: state.bytes + snapshot.bytes)
        }
    }

    func insertSnapshot(tokens: [Int], state: SequenceState) {
        guard cache.matchLength(Array(tokens.prefix(state.position)) + [0]) < state.position else { return }  // already there
        guard makeRoom(state.bytes) else { return }
        let key = memory.newKey()
        if cache.insert(tokens, state: state, memoryKey: key, now: Engine.now()) { memory.charge(key, bytes: state.bytes) }
    }

    /// Samples the token after `logits` for s (and, after a prompt with n > 1, for its forks).
    private func sampleNext(_ s: Sequence, logits: [Float], now: Double) {
        var choices = [s]
        if !s.group.forked {
            s.group.forked = true
            for c in 1..<s.params.n {
                let fork = s.fork(choice: c, sampler: TokenSampler(params: s.params, seed: s.group.seed, vocabSize: model.config.vocabSize,
                                                                    promptTokens: s.group.request.promptTokens, choice: c),
                                  tokenizer: tokenizer, memoryKey: memory.newKey())
                memory.charge(fork.memoryKey, bytes: fork.state!.bytes)
                s.group.sequences.append(fork)
                running.append(fork)
                choices.append(fork)
            }
        }
        logits.withUnsafeBufferPointer { lp in
            for c in choices {
                let t = Engine.now()
                let picked = next(c, logits: lp)
                samplingSeconds += Engine.now() - t
                emit(c, next: picked, now: now)
            }
        }
    }

    private func next(_ s: Sequence, logits: UnsafeBufferPointer<Float>) -> (token: Int, logprob: TokenLogprob?) {
        if let forced = s.params.forcedOutput {
            return (s.outputCount < forced.count ? forced[s.outputCount] : model.config.eosTokenId, nil)
        }
        return s.sampler.sample(logits: logits)
    }

    /// Appends the sampled token, emits its delta, and finishes the choice on a stop or a limit.
    private func emit(_ s: Sequence, next: (token: Int, logprob: TokenLogprob?), now: Double) {
        let p = s.params
        let stopToken = (!p.ignoreEOS && next.token == model.config.eosTokenId) || p.stopTokenIds.contains(next.token)
        let (delta, stopString) = s.append(next.token, logprob: next.logprob, isStopToken: stopToken, tokenizer: tokenizer)
        counters.generationTokens += 1
        let g = s.group
        if g.firstToken == nil { g.firstToken = now }
        if s.choice == 0 {
            if let last = s.lastTokenTime { g.gaps.append(now - last) }
            s.lastTokenTime = now
        }
        g.continuation.yield(.delta(delta))
        if stopToken { finish(s, .stop, matched: String(next.token)) }
        else if let stopString { finish(s, .stop, matched: stopString) }
        else if s.outputCount >= p.maxTokens || s.tokens.count >= contextLength { finish(s, .length, matched: nil) }
    }

    /// Ends one choice: flushes held text, leaves its end snapshot in the cache, frees its state.
    func finish(_ s: Sequence, _ reason: FinishReason, matched: String?) {
        guard s.finished == nil else { return }
        s.finished = reason
        let g = s.group
        if reason != .abort {
            let tail = s.flushText()
            if !tail.isEmpty { g.continuation.yield(.delta(TokenDelta(choice: s.choice, tokens: [], text: tail, logprobs: []))) }
        }
        g.continuation.yield(.finished(choice: s.choice, reason: reason, matchedStop: matched))
        let snapshot = s.boundarySnapshot
        s.boundarySnapshot = nil
        s.state = nil
        memory.release(s.memoryKey)
        if config.prefixCache, reason != .abort, let snapshot { insertSnapshot(tokens: s.tokens, state: snapshot.state) }
        running.removeAll { $0 === s }
        waiting.removeAll { $0 === s }
        if g.sequences.allSatisfy({ $0.finished != nil }) && (g.forked || reason == .abort) { complete(g) }
    }

    /// Every choice is done: usage and timings, then the stream ends.
    func complete(_ g: RequestGroup) {
        let now = Engine.now()
        let usage = Usage(promptTokens: g.request.promptTokens.count, completionTokens: g.completionTokens, cachedTokens: g.cachedTokens)
        let timings = Timings(queue: (g.admitted ?? now) - g.submitted, timeToFirstToken: (g.firstToken ?? now) - g.submitted,
                              total: now - g.submitted, interTokenGaps: g.gaps)
        g.continuation.yield(.completed(usage, timings))
        g.continuation.finish()
        groups[g.key] = nil
        counters.finishedRequests += 1
    }

    /// Cancels a request wherever it is; its memory is freed at once.
    func abort(_ g: RequestGroup) {
        counters.abortedRequests += 1
        if !g.forked {  // no forks will come: their choices end here too
            g.forked = true
            for c in g.sequences.count..<g.request.sampling.n { g.continuation.yield(.finished(choice: c, reason: .abort, matchedStop: nil)) }
        }
        for s in g.sequences where s.finished == nil { finish(s, .abort, matched: nil) }
        if groups[g.key] != nil { complete(g) }
    }

    /// The ledger against what every holder really holds; empty when all is well.
    func audit() -> [String] {
        var actual = cache.heldBytes()
        let held = actual.values.reduce(0, +)
        for s in running { actual[s.memoryKey] = (s.state?.bytes ?? 0) + (s.boundarySnapshot?.state.bytes ?? 0) }
        var problems = memory.audit(actual)
        if held != cache.bytes { problems.append("the prefix cache counts \(cache.bytes) bytes but holds \(held)") }
        if isIdle && memory.used != cache.bytes {
            problems.append("idle, yet \(memory.used) bytes are charged and the prefix cache holds \(cache.bytes)")
        }
        return problems
    }
}
