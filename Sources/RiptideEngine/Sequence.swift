import RiptideModel
import RiptideTokenizer

/// One choice of one request as it moves through the engine: its tokens (prompt, then output),
/// how many of them its model state has computed, and what turns sampled ids into events.
/// Engine-thread only.
final class Sequence {
    let group: RequestGroup
    let choice: Int
    /// Prompt then output ids.
    private(set) var tokens: [Int]
    let promptCount: Int
    /// Tokens whose effect `state` holds; the rest (`tokens[computed...]`) still have to run.
    var computed = 0
    /// nil while waiting (never admitted, or retracted).
    var state: SequenceState?
    var sampler: TokenSampler
    private var detokenizer: StreamingDetokenizer
    private var stopMatcher: StopStringMatcher
    /// The snapshot at the last 128-token boundary passed after the prompt's; it joins the prefix
    /// cache when the request finishes.
    var boundarySnapshot: (position: Int, state: SequenceState)?
    var finished: FinishReason?
    /// Memory-ledger key of this sequence's state.
    let memoryKey: Int
    var lastTokenTime: Double?

    init(group: RequestGroup, choice: Int, tokens: [Int], promptCount: Int, sampler: TokenSampler, tokenizer: Tokenizer, memoryKey: Int) {
        self.group = group
        self.choice = choice
        self.tokens = tokens
        self.promptCount = promptCount
        self.sampler = sampler
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        stopMatcher = StopStringMatcher(stops: group.request.sampling.stop)
        self.memoryKey = memoryKey
    }

    /// A fork of this sequence after its prompt (n > 1): same state and tokens, its own sampler.
    func fork(choice: Int, sampler: TokenSampler, tokenizer: Tokenizer, memoryKey: Int) -> Sequence {
        let s = Sequence(group: group, choice: choice, tokens: tokens, promptCount: promptCount, sampler: sampler,
                         tokenizer: tokenizer, memoryKey: memoryKey)
        s.computed = computed
        s.state = state?.copy()
        return s
    }

    var outputCount: Int { tokens.count - promptCount }
    var pending: Int { tokens.count - computed }
    var params: SamplingParams { group.request.sampling }

    /// Appends a sampled id and returns the delta to emit and whether a stop ended the choice.
    func append(_ token: Int, logprob: TokenLogprob?, isStopToken: Bool, tokenizer: Tokenizer) -> (delta: TokenDelta, stop: String?) {
        tokens.append(token)
        sampler.noteToken(token)
        var text = ""
        var matched: String?
        if !isStopToken && !(params.skipSpecialTokens && tokenizer.isSpecial(token)) {
            let out = stopMatcher.feed(detokenizer.append(token))
            text = out.text
            matched = out.matchedStop
        }
        return (TokenDelta(choice: choice, tokens: [token], text: text, logprobs: logprob.map { [$0] } ?? []), matched)
    }

    /// The text held back (an unfinished character, a possible stop-string prefix), at the end.
    func flushText() -> String {
        guard !stopMatcher.isStopped else { return "" }
        let tail = stopMatcher.feed(detokenizer.finish())
        return tail.matchedStop == nil ? tail.text + stopMatcher.finish() : tail.text
    }
}

/// A request and its n choices. Choice 0 prefills; the others fork from it once the prompt is done.
final class RequestGroup {
    /// The engine's own key (request ids come from clients and may repeat).
    let key: Int
    let request: GenerationRequest
    /// The seed in force: the request's, or one drawn at submission.
    let seed: UInt64
    let continuation: AsyncStream<EngineEvent>.Continuation
    let submitted: Double
    var admitted: Double?
    var firstToken: Double?
    var cachedTokens = 0
    var sequences: [Sequence] = []
    var forked = false
    var gaps: [Double] = []
    var completionTokens: Int { sequences.reduce(0) { $0 + $1.outputCount } }

    init(key: Int, request: GenerationRequest, seed: UInt64, continuation: AsyncStream<EngineEvent>.Continuation, submitted: Double) {
        self.key = key
        self.seed = seed
        self.request = request
        self.continuation = continuation
        self.submitted = submitted
    }
}
