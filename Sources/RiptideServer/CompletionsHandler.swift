import Hummingbird
import RiptideEngine
import RiptideTokenizer

/// `POST /v1/completions`: raw prompts (text or token ids, or a batch of them), legacy logprobs.
/// A text prompt is tokenized as it is, special tokens included (the client owns the whole
/// prompt), with BOS put in front unless it is already there, as a chat prompt starts.
struct CompletionsHandler: Sendable {
    let context: ServingContext

    func respond(_ request: Request) async -> Response {
        do {
            var request = request
            let fields = try JSONFields.parseBody(try await context.readBody(&request))
            let completion = try CompletionRequest(fields, limits: context.limits)
            try context.checkModel(completion.model)
            let prompts = completion.prompts.map(tokens)
            for prompt in prompts {
                _ = try context.maxTokens(
                    requested: completion.sampling.maxTokens, promptLength: prompt.count, defaultCap: nil, param: "prompt")
            }
            let id = context.newID("cmpl-")
            let ids = prompts.count == 1 ? [id] : prompts.indices.map { "\(id)-\($0)" }
            var streams: [AsyncStream<EngineEvent>] = []
            do {
                for (engineID, prompt) in zip(ids, prompts) {
                    streams.append(try context.submit(id: engineID, prompt: prompt, sampling: completion.sampling, param: "prompt"))
                }
            } catch {
                for engineID in ids.prefix(streams.count) { context.engine.abort(engineID) }
                throw error
            }
            let run = CompletionRun(
                context: context, id: id, engineIDs: ids, request: completion, promptTokens: prompts.map(\.count))
            let events = mergeEvents(streams)
            return completion.stream ? stream(run, events, request) : try await collect(run, events, request)
        } catch {
            return APIError.from(error).response
        }
    }

    private func tokens(_ prompt: PromptInput) -> [Int] {
        switch prompt {
        case .ids(let ids): return ids
        case .text(let text):
            return context.tokenizer.encode(text.hasPrefix(DSV4ChatTokens.bos) ? text : DSV4ChatTokens.bos + text)
        }
    }

    private func stream(_ run: CompletionRun, _ events: AsyncStream<(Int, EngineEvent)>, _ request: Request) -> Response {
        let context = self.context
        return SSE.response(context, guardian: AbortOnRelease(engine: context.engine, ids: run.engineIDs)) { writer in
            var run = run
            try await context.drive(request, ids: run.engineIDs) {
                for await (n, event) in events {
                    for chunk in run.handle(n, event) { try await writer.write(SSE.event(chunk)) }
                }
                if let failure = run.failure {
                    try await writer.write(SSE.error(failure))
                } else if run.request.includeUsage {
                    try await writer.write(SSE.event(run.usageChunk()))
                }
            }
        }
    }

    private func collect(_ run: CompletionRun, _ events: AsyncStream<(Int, EngineEvent)>, _ request: Request) async throws
        -> Response
    {
        var run = run
        try await context.drive(request, ids: run.engineIDs) {
            for await (n, event) in events { _ = run.handle(n, event) }
        }
        if let failure = run.failure { return context.closingConnection(failure.response) }
        return context.closingConnection(JSONOutput.response(run.completionJSON()))
    }
}

/// One completions request in flight: choice `prompt * n + k` is choice k of prompt `prompt`.
struct CompletionRun: Sendable {
    struct Choice: Sendable {
        var text = ""
        var logprobs = Logprobs.Completion()
        var sentLogprobs = 0
        var finishReason: FinishReason?
        var matchedStop: String?
    }

    let context: ServingContext
    let id: String
    let engineIDs: [String]
    let request: CompletionRequest
    let created = unixTime()
    let promptTokens: [Int]
    private var choices: [Choice]
    private var completionTokens = 0
    private var cachedTokens = 0
    private(set) var failure: APIError?

    init(context: ServingContext, id: String, engineIDs: [String], request: CompletionRequest, promptTokens: [Int]) {
        self.context = context
        self.id = id
        self.engineIDs = engineIDs
        self.request = request
        self.promptTokens = promptTokens
        choices = Array(repeating: Choice(), count: promptTokens.count * request.sampling.n)
    }

    mutating func handle(_ prompt: Int, _ event: EngineEvent) -> [OrderedJSON] {
        let n = request.sampling.n
        switch event {
        case .started:
            return []
        case .delta(let d):
            guard d.choice < n else { return [] }
            let c = prompt * n + d.choice
            choices[c].text += d.text
            if request.logprobs != nil { choices[c].logprobs.append(d.logprobs, tokenizer: context.tokenizer) }
            guard request.stream, !d.text.isEmpty else { return [] }
            return [chunk(c, text: d.text, finish: nil)]
        case .finished(let k, let reason, let matched):
            guard k < n else { return [] }
            let c = prompt * n + k
            choices[c].finishReason = reason
            choices[c].matchedStop = matched
            return request.stream ? [chunk(c, text: "", finish: reason.rawValue, matchedStop: matched)] : []
        case .completed(let usage, _):
            completionTokens += usage.completionTokens
            cachedTokens += usage.cachedTokens
            return []
        case .failed(let e):
            if failure == nil { failure = APIError.engine(e, param: "prompt") }
            return []
        }
    }

    /// A stream chunk: always one choice with a `text` (SGLang's bench client reads
    /// `choices[0].text` from every chunk).
    private mutating func chunk(_ c: Int, text: String, finish: String?, matchedStop: String? = nil) -> OrderedJSON {
        var logprobs = OrderedJSON.null
        if request.logprobs != nil {
            logprobs = choices[c].logprobs.json(from: choices[c].sentLogprobs)
            choices[c].sentLogprobs = choices[c].logprobs.tokens.count
        }
        var choice: OrderedJSON = [
            "index": .int(c), "text": .string(text), "logprobs": logprobs, "finish_reason": .optionalString(finish),
        ]
        if let matchedStop { choice.append("matched_stop", .string(matchedStop)) }
        return [
            "id": .string(id), "object": "text_completion", "created": .int(created), "model": .string(context.modelName),
            "choices": [choice],
        ]
    }

    private var usage: OrderedJSON {
        openAIUsage(
            promptTokens: promptTokens.reduce(0, +), completionTokens: completionTokens, cachedTokens: cachedTokens,
            reasoningTokens: 0)
    }

    func usageChunk() -> OrderedJSON {
        [
            "id": .string(id), "object": "text_completion", "created": .int(created), "model": .string(context.modelName),
            "choices": [], "usage": usage,
        ]
    }

    func completionJSON() -> OrderedJSON {
        [
            "id": .string(id), "object": "text_completion", "created": .int(created), "model": .string(context.modelName),
            "choices": .array(choices.enumerated().map { c, choice in
                var out: OrderedJSON = [
                    "index": .int(c), "text": .string(choice.text),
                    "logprobs": request.logprobs != nil ? choice.logprobs.json() : .null,
                    "finish_reason": .string(choice.finishReason?.rawValue ?? "abort"),
                ]
                if let m = choice.matchedStop { out.append("matched_stop", .string(m)) }
                return out
            }),
            "usage": usage,
        ]
    }
}
