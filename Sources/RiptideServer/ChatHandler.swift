import Hummingbird
import RiptideEngine
import RiptideTokenizer

/// `POST /v1/chat/completions`.
struct ChatHandler: Sendable {
    let context: ServingContext

    func respond(_ request: Request) async -> Response {
        do {
            var request = request
            let fields = try JSONFields.parseBody(try await context.readBody(&request))
            let chat = try ChatCompletionRequest(fields, limits: context.limits)
            try context.checkModel(chat.model)
            let prompt = try ChatPrompt.tokens(for: chat, tokenizer: context.promptTokenizer)
            // skip_special_tokens (default true) drops only BOS/EOS/pad-like tokens; `</think>` and the
            // DSML marker are not special, so the completion parser still sees them.
            var sampling = chat.sampling
            sampling.maxTokens = try context.maxTokens(
                requested: chat.maxTokens, promptLength: prompt.count, defaultCap: context.options.defaultChatMaxTokens,
                param: "messages")
            let id = context.newID("chatcmpl-")
            let events = try context.submit(id: id, prompt: prompt, sampling: sampling, param: "messages")
            let run = ChatRun(context: context, id: id, request: chat, promptTokens: prompt.count)
            return chat.stream ? stream(run, events, request) : try await collect(run, events, request)
        } catch {
            return APIError.from(error).response
        }
    }

    private func stream(_ run: ChatRun, _ events: AsyncStream<EngineEvent>, _ request: Request) -> Response {
        let context = self.context
        return SSE.response(context, guardian: AbortOnRelease(engine: context.engine, ids: [run.id])) { writer in
            var run = run
            try await context.drive(request, ids: [run.id]) {
                for chunk in run.openingChunks() { try await writer.write(SSE.event(chunk)) }
                for await event in events {
                    for chunk in run.handle(event) { try await writer.write(SSE.event(chunk)) }
                }
                if let failure = run.failure { try await writer.write(SSE.error(failure)) }
            }
        }
    }

    private func collect(_ run: ChatRun, _ events: AsyncStream<EngineEvent>, _ request: Request) async throws -> Response {
        var run = run
        try await context.drive(request, ids: [run.id]) {
            for await event in events { _ = run.handle(event) }
        }
        if let failure = run.failure { return context.closingConnection(failure.response) }
        return context.closingConnection(JSONOutput.response(run.completionJSON()))
    }
}

/// The state of one chat request while its events arrive: per-choice parsers, pending
/// logprobs, usage. `handle` returns the stream chunks an event produces.
struct ChatRun: Sendable {
    let context: ServingContext
    let id: String
    let request: ChatCompletionRequest
    let created = unixTime()
    let promptTokens: Int
    var choices: [ChatChoiceOutput]
    private var pendingLogprobs: [[TokenLogprob]]
    private var allLogprobs: [[TokenLogprob]]
    private var usage: Usage?
    private(set) var failure: APIError?

    init(context: ServingContext, id: String, request: ChatCompletionRequest, promptTokens: Int) {
        self.context = context
        self.id = id
        self.request = request
        self.promptTokens = promptTokens
        let maxCalls = request.toolChoice == .none ? 0 : (request.parallelToolCalls ? Int.max : 1)
        choices = (0..<request.sampling.n).map {
            ChatChoiceOutput(index: $0, thinkingMode: request.thinking, maxCalls: maxCalls, tokenizer: context.tokenizer)
        }
        pendingLogprobs = Array(repeating: [], count: request.sampling.n)
        allLogprobs = pendingLogprobs
    }

    /// Each choice's first chunk: the assistant role and empty content.
    func openingChunks() -> [OrderedJSON] {
        choices.indices.map { chunk($0, delta: ["role": "assistant", "content": ""], logprobs: nil, finish: nil) }
    }

    mutating func handle(_ event: EngineEvent) -> [OrderedJSON] {
        switch event {
        case .started:
            return []
        case .delta(let d):
            guard choices.indices.contains(d.choice) else { return [] }
            if request.logprobs {
                pendingLogprobs[d.choice] += d.logprobs
                allLogprobs[d.choice] += d.logprobs
            }
            return chunks(d.choice, choices[d.choice].feed(d, ignoreEOS: request.sampling.ignoreEOS))
        case .finished(let c, let reason, let matched):
            guard choices.indices.contains(c) else { return [] }
            var out = chunks(c, choices[c].finish(reason: reason))
            choices[c].finishReason = reason
            choices[c].matchedStop = matched
            choices[c].logIssues(context.logger, requestID: id)
            out.append(chunk(c, delta: [:], logprobs: takeLogprobs(c), finish: choices[c].finishReasonText, matchedStop: matched))
            return out
        case .completed(let u, let timings):
            usage = u
            _ = timings
            guard request.stream && request.includeUsage else { return [] }
            return [[
                "id": .string(id), "object": "chat.completion.chunk", "created": .int(created),
                "model": .string(context.modelName), "choices": [], "usage": usageJSON(),
            ]]
        case .failed(let e):
            failure = APIError.engine(e)
            return []
        }
    }

    private mutating func takeLogprobs(_ c: Int) -> OrderedJSON? {
        guard request.logprobs else { return nil }
        defer { pendingLogprobs[c] = [] }
        return Logprobs.chat(pendingLogprobs[c], tokenizer: context.tokenizer)
    }

    private mutating func chunks(_ c: Int, _ pieces: [ChatDeltaPiece]) -> [OrderedJSON] {
        pieces.map { piece in
            let delta: OrderedJSON
            switch piece {
            case .reasoning(let t): delta = ["reasoning_content": .string(t)]
            case .content(let t): delta = ["content": .string(t)]
            case .toolCallStart(let slot, let callID, let name):
                delta = ["tool_calls": [[
                    "index": .int(slot), "id": .string(callID), "type": "function",
                    "function": ["name": .string(name), "arguments": ""],
                ]]]
            case .toolCallArguments(let slot, let fragment):
                delta = ["tool_calls": [["index": .int(slot), "function": ["arguments": .string(fragment)]]]]
            }
            return chunk(c, delta: delta, logprobs: takeLogprobs(c), finish: nil)
        }
    }

    private func chunk(
        _ c: Int, delta: OrderedJSON, logprobs: OrderedJSON?, finish: String?, matchedStop: String? = nil
    ) -> OrderedJSON {
        var choice: OrderedJSON = [
            "index": .int(c), "delta": delta, "logprobs": logprobs ?? .null, "finish_reason": .optionalString(finish),
        ]
        if let matchedStop { choice.append("matched_stop", .string(matchedStop)) }
        return [
            "id": .string(id), "object": "chat.completion.chunk", "created": .int(created),
            "model": .string(context.modelName), "choices": [choice],
        ]
    }

    func usageJSON() -> OrderedJSON {
        openAIUsage(
            promptTokens: usage?.promptTokens ?? promptTokens,
            completionTokens: usage?.completionTokens ?? choices.reduce(0) { $0 + $1.completionTokens },
            cachedTokens: usage?.cachedTokens ?? 0, reasoningTokens: choices.reduce(0) { $0 + $1.reasoningTokens })
    }

    /// The non-streamed response.
    func completionJSON() -> OrderedJSON {
        [
            "id": .string(id), "object": "chat.completion", "created": .int(created), "model": .string(context.modelName),
            "choices": .array(choices.map { choice in
                var c: OrderedJSON = [
                    "index": .int(choice.index), "message": choice.message,
                    "logprobs": request.logprobs ? Logprobs.chat(allLogprobs[choice.index], tokenizer: context.tokenizer) : .null,
                    "finish_reason": .string(choice.finishReasonText),
                ]
                if let m = choice.matchedStop { c.append("matched_stop", .string(m)) }
                return c
            }),
            "usage": usageJSON(),
        ]
    }
}
