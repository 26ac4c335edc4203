import RiptideEngine
import RiptideTokenizer

/// What request parsing needs to know about the server.
struct RequestLimits: Sendable {
    var vocabularySize: Int
    var tokenizer: Tokenizer
    var testHooks: Bool
    var defaultThinking: ThinkingMode
}

enum ToolChoice: Sendable, Equatable {
    case auto, none, required
    case function(String)
}

/// `POST /v1/chat/completions`, parsed and validated (except for lengths, which need the prompt).
struct ChatCompletionRequest: Sendable {
    var model: String?
    var messages: [ChatMessage]
    var tools: [ChatTool] = []
    var toolChoice: ToolChoice = .none
    var parallelToolCalls = true
    /// The whole `response_format` object (absent for `{"type": "text"}`), shown to the model
    /// verbatim after the tool block; no constrained decoding.
    var responseFormat: OrderedJSON?
    var thinking: ThinkingMode
    var reasoningEffort: ReasoningEffort?
    var dropThinking = true
    var stream = false
    var includeUsage = false
    var sampling = SamplingParams()
    /// `max_completion_tokens` or `max_tokens`; nil: the rest of the context.
    var maxTokens: Int?
    var logprobs = false
    var topLogprobs = 0

    init(_ f: JSONFields, limits: RequestLimits) throws {
        model = try f.string("model")
        guard let rawMessages = f["messages"] else { throw APIError.invalid("'messages' is required", param: "messages") }
        do {
            messages = try ChatMessage.decodeList(rawMessages, path: "messages").map(Self.normalized)
            guard !messages.isEmpty else { throw APIError.invalid("'messages' must not be empty", param: "messages") }
            try DSV4ChatEncoder.validateForPublicAPI(messages)
        } catch let e as ChatFormatError {
            throw APIError.invalid(e.description, param: "messages")
        }
        thinking = limits.defaultThinking
        try readThinking(f)
        try readTools(f)
        if let rf = try f.object("response_format") {
            let type = try rf.string("type") ?? "text"
            switch type {
            case "text": responseFormat = nil
            case "json_object": responseFormat = rf.json
            case "json_schema":
                guard try rf.object("json_schema") != nil else {
                    throw APIError.invalid("'response_format.json_schema' is required for type json_schema", param: "response_format")
                }
                responseFormat = rf.json
            default:
                throw APIError.invalid(
                    "'response_format.type' must be one of text, json_object, json_schema", param: "response_format.type")
            }
        }
        stream = try f.bool("stream") ?? false
        includeUsage = try f.object("stream_options")?.bool("include_usage") ?? false
        try sampling.read(f, vocabularySize: limits.vocabularySize)
        try sampling.readTestHooks(f, tokenizer: limits.tokenizer, enabled: limits.testHooks)
        maxTokens = try f.int("max_completion_tokens", in: 1...Int.max) ?? f.int("max_tokens", in: 1...Int.max)
        logprobs = try f.bool("logprobs") ?? false
        if let k = try f.int("top_logprobs", in: 0...SamplingParams.maxTopLogprobs) {
            guard logprobs || k == 0 else {
                throw APIError.invalid("'top_logprobs' requires 'logprobs': true", param: "top_logprobs")
            }
            topLogprobs = k
        }
        sampling.logprobs = logprobs ? topLogprobs : nil
    }

    /// OpenAI's `developer` role is its new name for system instructions (DeepSeek's internal
    /// developer role is something else and stays unreachable). Empty tool-call arguments, which
    /// some agent frameworks send back for calls without parameters, mean `{}`.
    static func normalized(_ message: ChatMessage) -> ChatMessage {
        var m = message
        if m.role == .developer { m.role = .system }
        for i in m.toolCalls.indices where m.toolCalls[i].arguments.allSatisfy(\.isWhitespace) {
            m.toolCalls[i].arguments = "{}"
        }
        return m
    }

    /// The four thinking dialects, strongest first: DeepSeek's `thinking: {"type"}`,
    /// `chat_template_kwargs.thinking` (SGLang/vLLM), `chat_template_kwargs.enable_thinking`
    /// (Qwen-style clients), then `reasoning_effort`, which implies thinking unless it is "none".
    private mutating func readThinking(_ f: JSONFields) throws {
        var enabled: Bool?
        if let t = f["thinking"] {
            switch t {
            case .bool(let b): enabled = b
            case .object:
                let obj = try JSONFields(t, prefix: "thinking.")
                switch try obj.string("type") {
                case "enabled"?: enabled = true
                case "disabled"?: enabled = false
                default: throw APIError.invalid("'thinking.type' must be \"enabled\" or \"disabled\"", param: "thinking.type")
                }
            default: throw f.fail("thinking", "an object {\"type\": \"enabled\"|\"disabled\"}")
            }
        }
        let kwargs = try f.object("chat_template_kwargs")
        if enabled == nil, let k = kwargs { enabled = try k.bool("thinking") ?? k.bool("enable_thinking") }
        if let drop = try kwargs?.bool("drop_thinking") { dropThinking = drop }
        let effortText = try f.string("reasoning_effort") ?? kwargs?.string("reasoning_effort")
        if let text = effortText {
            // DeepSeek's API mapping: low and medium run as high; xhigh runs as max.
            switch text.lowercased() {
            case "none": if enabled == nil { enabled = false }
            case "minimal", "low", "medium", "high": reasoningEffort = .high
            case "max", "xhigh": reasoningEffort = .max
            default:
                throw APIError.invalid(
                    "'reasoning_effort' must be one of none, minimal, low, medium, high, xhigh, max", param: "reasoning_effort")
            }
            if reasoningEffort != nil && enabled == nil { enabled = true }
        }
        if let enabled { thinking = enabled ? .thinking : .chat }
        if thinking == .chat { reasoningEffort = nil }
    }

    private mutating func readTools(_ f: JSONFields) throws {
        do {
            tools = try ChatTool.decodeList(f["tools"], path: "tools")
        } catch let e as ChatFormatError {
            throw APIError.invalid(e.description, param: "tools")
        }
        toolChoice = tools.isEmpty ? .none : .auto
        if let choice = f["tool_choice"] {
            switch choice {
            case .string("auto"): toolChoice = tools.isEmpty ? .none : .auto
            case .string("none"): toolChoice = .none
            case .string("required"): toolChoice = .required
            case .object:
                let obj = try JSONFields(choice, prefix: "tool_choice.")
                guard let name = try obj.object("function")?.string("name") else {
                    throw APIError.invalid("'tool_choice.function.name' is required", param: "tool_choice")
                }
                guard tools.contains(where: { $0.name == name }) else {
                    throw APIError.invalid("'tool_choice' names function '\(name)', which is not in 'tools'", param: "tool_choice")
                }
                toolChoice = .function(name)
            default:
                throw APIError.invalid(
                    "'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\"}}",
                    param: "tool_choice")
            }
        }
        if toolChoice == .required && tools.isEmpty {
            throw APIError.invalid("'tool_choice' is \"required\" but no 'tools' were given", param: "tool_choice")
        }
        parallelToolCalls = try f.bool("parallel_tool_calls") ?? true
    }
}

/// One prompt of a completions request.
enum PromptInput: Sendable, Equatable {
    case text(String)
    case ids([Int])
}

/// `POST /v1/completions`.
struct CompletionRequest: Sendable {
    /// Most choices (prompts × n) in one request.
    static let maxChoices = 256

    var model: String?
    var prompts: [PromptInput]
    var stream = false
    var includeUsage = false
    var sampling = SamplingParams()
    var logprobs: Int?

    init(_ f: JSONFields, limits: RequestLimits) throws {
        model = try f.string("model")
        guard let prompt = f["prompt"] else { throw APIError.invalid("'prompt' is required", param: "prompt") }
        prompts = try Self.prompts(prompt, vocabularySize: limits.vocabularySize)
        if try f.bool("echo") == true { throw APIError.invalid("'echo' is not supported", param: "echo") }
        if let suffix = try f.string("suffix"), !suffix.isEmpty {
            throw APIError.invalid("'suffix' is not supported by this model", param: "suffix")
        }
        stream = try f.bool("stream") ?? false
        includeUsage = try f.object("stream_options")?.bool("include_usage") ?? false
        try sampling.read(f, vocabularySize: limits.vocabularySize)
        try sampling.readTestHooks(f, tokenizer: limits.tokenizer, enabled: limits.testHooks)
        if let bestOf = try f.int("best_of", in: 1...SamplingParams.maxChoices), bestOf != 1, bestOf != sampling.n {
            throw APIError.invalid("'best_of' other than 1 or n is not supported", param: "best_of")
        }
        sampling.maxTokens = try f.int("max_tokens", in: 1...Int.max) ?? 16
        logprobs = try f.int("logprobs", in: 0...SamplingParams.maxTopLogprobs)
        sampling.logprobs = logprobs
        guard prompts.count * sampling.n <= Self.maxChoices else {
            throw APIError.invalid("at most \(Self.maxChoices) choices (prompts × n) per request", param: "n")
        }
    }

    /// A string, a list of token ids, or a list of strings / token-id lists (a batch).
    static func prompts(_ json: OrderedJSON, vocabularySize: Int) throws -> [PromptInput] {
        let bad = APIError.invalid(
            "'prompt' must be a string, a list of token ids, or a list of strings or token-id lists", param: "prompt")
        func ids(_ items: [OrderedJSON]) throws -> [Int] {
            guard !items.isEmpty else { throw APIError.invalid("a token-id prompt must not be empty", param: "prompt") }
            return try items.map { item in
                guard let id = JSONFields.integer(item) else { throw bad }
                guard id >= 0 && id < vocabularySize else {
                    throw APIError.invalid("token id \(id) in 'prompt' is outside the vocabulary [0, \(vocabularySize))", param: "prompt")
                }
                return id
            }
        }
        switch json {
        case .string(let s): return [.text(s)]
        case .array(let items):
            guard let first = items.first else { throw APIError.invalid("'prompt' must not be empty", param: "prompt") }
            if case .string = first {
                return try items.map { item in
                    guard case .string(let s) = item else { throw bad }
                    return .text(s)
                }
            }
            if case .array = first {
                return try items.map { item in
                    guard case .array(let inner) = item else { throw bad }
                    return .ids(try ids(inner))
                }
            }
            return [.ids(try ids(items))]
        default: throw bad
        }
    }
}
