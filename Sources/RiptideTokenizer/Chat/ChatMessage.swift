/// Chat types shaped like the OpenAI chat-completions API, plus the few DeepSeek-V4 extras the
/// prompt format knows about (`developer`, `latest_reminder`, `task`, `wo_eos`).

public enum ChatRole: String, Sendable, Equatable, CaseIterable {
    case system, user, assistant, tool
    /// DeepSeek's internal search-agent role: rendered like a user turn that may carry tools.
    case developer
    /// Date/location/platform reminder, meant to sit before the user turn it applies to.
    case latestReminder = "latest_reminder"
}

/// OpenAI `content`: a plain string or a list of typed parts.
public enum ChatContent: Sendable, Equatable {
    case text(String)
    case parts([ChatContentPart])
}

/// One OpenAI content part. Only `text` parts can be rendered; others (images, audio) are kept
/// so the encoder can report them or, for tool results, render `[Unsupported <type>]`.
public struct ChatContentPart: Sendable, Equatable {
    public var type: String
    public var text: String?

    public init(type: String, text: String? = nil) {
        self.type = type
        self.text = text
    }

    public static func text(_ text: String) -> ChatContentPart { .init(type: "text", text: text) }
}

/// One function call made by the assistant (OpenAI `tool_calls[i]`).
public struct ChatToolCall: Sendable, Equatable {
    /// Call id; the parser leaves it nil and the server mints one.
    public var id: String?
    public var name: String
    /// The arguments as a JSON **string**, as in the OpenAI API.
    public var arguments: String

    public init(id: String? = nil, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// A tool declaration (OpenAI `tools[i]` with `type: "function"`). The `function` object
/// (name, description, parameters...) is kept as ordered JSON because the prompt shows it verbatim.
public struct ChatTool: Sendable, Equatable {
    public var function: OrderedJSON

    /// `function` must be a JSON object with a string `name`.
    public init(function: OrderedJSON) throws {
        guard case .object = function, function["name"]?.stringValue != nil else {
            throw ChatFormatError.invalidField(path: "tool.function", expected: "an object with a string `name`")
        }
        self.function = function
    }

    /// Convenience: `{"name", "description"?, "parameters"?}` in that order.
    public init(name: String, description: String? = nil, parameters: OrderedJSON? = nil) {
        var members = [OrderedJSON.Member("name", .string(name))]
        if let description { members.append(.init("description", .string(description))) }
        if let parameters { members.append(.init("parameters", parameters)) }
        self.function = .object(members)
    }

    public var name: String { function["name"]?.stringValue ?? "" }
}

/// DeepSeek's internal quick-instruction tasks (§8 of the spec).
public enum ChatTask: String, Sendable, Equatable, CaseIterable {
    case action, query, authority, domain, title
    case readURL = "read_url"

    /// The special token appended by the transition rule.
    public var token: String { "<｜\(rawValue)｜>" }
}

public struct ChatMessage: Sendable, Equatable {
    public var role: ChatRole
    /// nil means JSON `null` or absent.
    public var content: ChatContent?
    /// Assistant only: the model's reasoning (OpenAI-compatible `reasoning_content`).
    public var reasoningContent: String?
    /// Assistant only.
    public var toolCalls: [ChatToolCall]
    /// Tool only: which call this result answers.
    public var toolCallID: String?
    /// Rendered only on system and developer messages.
    public var tools: [ChatTool]
    /// Rendered only on system and developer messages; any JSON, shown verbatim.
    public var responseFormat: OrderedJSON?
    public var task: ChatTask?
    /// Assistant prefill: leave out the trailing end-of-sentence token (`wo_eos`).
    public var withoutEOS: Bool

    public init(
        role: ChatRole, content: ChatContent? = nil, reasoningContent: String? = nil,
        toolCalls: [ChatToolCall] = [], toolCallID: String? = nil, tools: [ChatTool] = [],
        responseFormat: OrderedJSON? = nil, task: ChatTask? = nil, withoutEOS: Bool = false
    ) {
        self.role = role
        self.content = content
        self.reasoningContent = reasoningContent
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.tools = tools
        self.responseFormat = responseFormat
        self.task = task
        self.withoutEOS = withoutEOS
    }

    public static func system(_ text: String, tools: [ChatTool] = []) -> ChatMessage {
        .init(role: .system, content: .text(text), tools: tools)
    }

    public static func user(_ text: String) -> ChatMessage {
        .init(role: .user, content: .text(text))
    }

    public static func assistant(
        _ text: String?, reasoning: String? = nil, toolCalls: [ChatToolCall] = []
    ) -> ChatMessage {
        .init(role: .assistant, content: text.map { .text($0) }, reasoningContent: reasoning, toolCalls: toolCalls)
    }

    public static func tool(_ text: String, callID: String?) -> ChatMessage {
        .init(role: .tool, content: .text(text), toolCallID: callID)
    }
}

public enum ThinkingMode: String, Sendable, Equatable, CaseIterable {
    /// Non-thinking: the prompt closes the think block, the completion is the answer.
    case chat
    /// The prompt leaves `<think>` open; the completion is `reasoning</think>answer`.
    case thinking
}

/// Only `max` changes the prompt (a fixed preamble); `high` is accepted and is a no-op.
public enum ReasoningEffort: String, Sendable, Equatable, CaseIterable {
    case high, max
}

public struct ChatEncodingOptions: Sendable, Equatable {
    public var thinkingMode: ThinkingMode
    /// Drop reasoning of assistant turns before the last user turn (thinking mode, no tools).
    public var dropThinking: Bool
    /// Prepend BOS (only when `context` is empty).
    public var addDefaultBOSToken: Bool
    public var reasoningEffort: ReasoningEffort?
    /// Messages already encoded earlier: used for look-behind/look-ahead but not rendered.
    public var context: [ChatMessage]

    public init(
        thinkingMode: ThinkingMode, dropThinking: Bool = true, addDefaultBOSToken: Bool = true,
        reasoningEffort: ReasoningEffort? = nil, context: [ChatMessage] = []
    ) {
        self.thinkingMode = thinkingMode
        self.dropThinking = dropThinking
        self.addDefaultBOSToken = addDefaultBOSToken
        self.reasoningEffort = reasoningEffort
        self.context = context
    }
}

/// Every error the chat format code throws. `description` is meant for API error messages.
public enum ChatFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidJSON(String)
    case unknownRole(String)
    case missingField(path: String)
    case invalidField(path: String, expected: String)
    case invalidValue(path: String, value: String, allowed: [String])
    case emptyDeveloperContent(index: Int)
    case unsupportedContentPart(index: Int, type: String)
    case toolArgumentsNotObject(toolName: String)
    case toolMessageWithoutID(index: Int)
    case toolCallWithoutID(index: Int, toolName: String)
    case roleNotAllowed(index: Int, role: ChatRole)
    case fieldNotAllowed(index: Int, field: String)
    case invalidToolArgumentsJSON(toolName: String)
    case malformedCompletion([String])

    public var description: String {
        switch self {
        case .invalidJSON(let why): return "invalid JSON: \(why)"
        case .unknownRole(let r): return "unknown message role '\(r)'"
        case .missingField(let path): return "missing required field '\(path)'"
        case .invalidField(let path, let expected): return "'\(path)' must be \(expected)"
        case .invalidValue(let path, let value, let allowed):
            return "'\(path)' has invalid value '\(value)'; allowed: \(allowed.joined(separator: ", "))"
        case .emptyDeveloperContent(let i): return "messages[\(i)]: a developer message needs non-empty content"
        case .unsupportedContentPart(let i, let type):
            return "messages[\(i)]: content part of type '\(type)' is not supported; only text parts can be rendered"
        case .toolArgumentsNotObject(let name):
            return "arguments of tool call '\(name)' must encode a JSON object"
        case .toolMessageWithoutID(let i): return "messages[\(i)]: a tool message needs 'tool_call_id'"
        case .toolCallWithoutID(let i, let name): return "messages[\(i)]: tool call '\(name)' has no 'id'"
        case .roleNotAllowed(let i, let role): return "messages[\(i)]: role '\(role.rawValue)' is not accepted here"
        case .fieldNotAllowed(let i, let field): return "messages[\(i)]: field '\(field)' is not accepted here"
        case .invalidToolArgumentsJSON(let name):
            return "arguments of tool call '\(name)' are not valid JSON"
        case .malformedCompletion(let issues):
            return "malformed completion: " + issues.joined(separator: "; ")
        }
    }
}
