import Hummingbird
import RiptideEngine
import RiptideTokenizer

/// SGLang's native `POST /generate`: `text` or `input_ids` (one prompt or a batch),
/// `sampling_params`, `stream`, `return_logprob`, `top_logprobs_num`, `rid`. Answers
/// `{text, output_ids, meta_info}` (a list for a batch or n > 1); streamed chunks carry the text
/// so far, as SGLang's do.
struct GenerateHandler: Sendable {
    let context: ServingContext
    static let defaultMaxNewTokens = 128

    func respond(_ request: Request) async -> Response {
        do {
            var request = request
            let f = try JSONFields.parseBody(try await context.readBody(&request))
            let (prompts, batched) = try readPrompts(f)
            var sampling = SamplingParams()
            sampling.maxTokens = Self.defaultMaxNewTokens
            if let sp = try f.object("sampling_params") {
                try sampling.read(sp, vocabularySize: context.tokenizer.vocabularySize)
                try sampling.readTestHooks(sp, tokenizer: context.tokenizer, enabled: context.options.enableTestHooks)
                if let m = try sp.int("max_new_tokens", in: 0...Int.max) { sampling.maxTokens = m }
            }
            if try f.bool("return_logprob") == true {
                sampling.logprobs = try f.int("top_logprobs_num", in: 0...SamplingParams.maxTopLogprobs) ?? 0
            }
            for prompt in prompts {
                _ = try context.maxTokens(requested: sampling.maxTokens, promptLength: prompt.count, defaultCap: nil, param: "input_ids")
            }
            let ids = try requestIDs(f, count: prompts.count)
            var streams: [AsyncStream<EngineEvent>] = []
            do {
                for (id, prompt) in zip(ids, prompts) {
                    streams.append(try context.submit(id: id, prompt: prompt, sampling: sampling, param: "input_ids"))
                }
            } catch {
                for id in ids.prefix(streams.count) { context.engine.abort(id) }
                throw error
            }
            let run = GenerateRun(context: context, ids: ids, n: sampling.n, promptTokens: prompts.map(\.count), sampling: sampling)
            let events = mergeEvents(streams)
            let list = batched || sampling.n > 1
            if try f.bool("stream") == true {
                let request = request
                return SSE.response(context, guardian: AbortOnRelease(engine: context.engine, ids: ids)) { [context] writer in
                    var run = run
                    try await context.drive(request, ids: ids) {
                        for await (p, event) in events {
                            for chunk in run.handle(p, event, streaming: true) { try await writer.write(SSE.event(chunk)) }
                        }
                        if let failure = run.failure { try await writer.write(SSE.error(failure)) }
                    }
                }
            }
            var collected = run
            try await context.drive(request, ids: ids) {
                for await (p, event) in events { _ = collected.handle(p, event, streaming: false) }
            }
            if let failure = collected.failure { return context.closingConnection(failure.response) }
            let results = collected.results()
            return context.closingConnection(JSONOutput.response(list ? .array(results) : results[0]))
        } catch {
            return APIError.from(error).response
        }
    }

    private func readPrompts(_ f: JSONFields) throws -> ([[Int]], Bool) {
        if let ids = f["input_ids"] {
            let prompts = try CompletionRequest.prompts(ids, vocabularySize: context.tokenizer.vocabularySize)
            let batched = if case .array(let items) = ids, case .array? = items.first { true } else { false }
            return (prompts.map { if case .ids(let x) = $0 { x } else { [] } }, batched)
        }
        guard let text = f["text"] else { throw APIError.invalid("'text' or 'input_ids' is required", param: "text") }
        let batched: Bool
        let texts: [String]
        switch text {
        case .string(let s): texts = [s]; batched = false
        case .array(let items):
            texts = try items.map { item in
                guard case .string(let s) = item else { throw f.fail("text", "a string or a list of strings") }
                return s
            }
            guard !texts.isEmpty else { throw APIError.invalid("'text' must not be empty", param: "text") }
            batched = true
        default: throw f.fail("text", "a string or a list of strings")
        }
        let bos = DSV4ChatTokens.bos
        return (texts.map { context.tokenizer.encode($0.hasPrefix(bos) ? $0 : bos + $0) }, batched)
    }

    /// `rid` (a string, or one per prompt) names the engine requests so `/abort_request` can find them.
    private func requestIDs(_ f: JSONFields, count: Int) throws -> [String] {
        let given = try f.stringOrList("rid")
        let ids: [String]
        if let given {
            guard given.count == count || (given.count == 1 && count == 1) else {
                throw APIError.invalid("'rid' must give one id per prompt", param: "rid")
            }
            ids = given
        } else {
            let base = randomToken(32)
            ids = count == 1 ? [base] : (0..<count).map { "\(base)-\($0)" }
        }
        let active = Set(context.activeRequestIDs)
        if let clash = ids.first(where: active.contains) {
            throw APIError.invalid("request id '\(clash)' is already in use", param: "rid")
        }
        return ids
    }
}

/// One `/generate` request in flight; result `prompt * n + k` is choice k of prompt `prompt`.
struct GenerateRun: Sendable {
    struct Choice: Sendable {
        var text = ""
        var outputIDs: [Int] = []
        var logprobs: [TokenLogprob] = []
        var finish: OrderedJSON = .null
    }

    let context: ServingContext
    let ids: [String]
    let n: Int
    let promptTokens: [Int]
    let sampling: SamplingParams
    let start = Engine.now()
    private var choices: [Choice]
    private var cached: [Int]
    private(set) var failure: APIError?

    init(context: ServingContext, ids: [String], n: Int, promptTokens: [Int], sampling: SamplingParams) {
        self.context = context
        self.ids = ids
        self.n = n
        self.promptTokens = promptTokens
        self.sampling = sampling
        choices = Array(repeating: Choice(), count: ids.count * n)
        cached = Array(repeating: 0, count: ids.count)
    }

    mutating func handle(_ p: Int, _ event: EngineEvent, streaming: Bool) -> [OrderedJSON] {
        switch event {
        case .started(let c):
            cached[p] = c
            return []
        case .delta(let d):
            guard d.choice < n else { return [] }
            let c = p * n + d.choice
            choices[c].text += d.text
            choices[c].outputIDs += d.tokens
            choices[c].logprobs += d.logprobs
            return streaming ? [result(c)] : []
        case .finished(let k, let reason, let matched):
            guard k < n else { return [] }
            let c = p * n + k
            switch reason {
            case .stop:
                let m: OrderedJSON = matched.map { s in Int(s).map { OrderedJSON.int($0) } ?? .string(s) } ?? .null
                choices[c].finish = ["type": "stop", "matched": m]
            case .length: choices[c].finish = ["type": "length", "length": .int(choices[c].outputIDs.count)]
            case .abort: choices[c].finish = ["type": "abort", "message": "the request was aborted"]
            }
            return streaming ? [result(c)] : []
        case .completed:
            return []
        case .failed(let e):
            if failure == nil { failure = APIError.engine(e, param: "input_ids") }
            return []
        }
    }

    func results() -> [OrderedJSON] { choices.indices.map(result) }

    private func result(_ c: Int) -> OrderedJSON {
        let p = c / n
        let choice = choices[c]
        var meta: OrderedJSON = [
            "id": .string(n == 1 ? ids[p] : "\(ids[p])-\(c % n)"), "finish_reason": choice.finish,
            "prompt_tokens": .int(promptTokens[p]), "completion_tokens": .int(choice.outputIDs.count),
            "cached_tokens": .int(cached[p]), "e2e_latency": .float(Engine.now() - start),
        ]
        if sampling.logprobs != nil {
            meta.append("output_token_logprobs", .array(choice.logprobs.map { [.number($0.logprob), .int($0.token), .null] }))
            meta.append("output_top_logprobs", .array(choice.logprobs.map { lp in
                .array(lp.top.map { [.number($0.logprob), .int($0.token), .null] })
            }))
        }
        var out: OrderedJSON = ["text": .string(choice.text), "output_ids": .array(choice.outputIDs.map { .int($0) }), "meta_info": meta]
        if n > 1 || ids.count > 1 { out.append("index", .int(c)) }
        return out
    }
}
