/// Decoding chat types from OpenAI-shaped JSON (what the server receives, and what the test
/// vectors use), and encoding them back for responses. Decoding accepts every field the DeepSeek-V4
/// format knows; `validateForPublicAPI` then narrows that down to what an OpenAI client may send.

extension ChatMessage {
    /// Decodes one message object. `path` (e.g. `messages[3]`) prefixes error messages.
    public init(json: OrderedJSON, path: String = "message") throws {
        guard case .object = json else { throw ChatFormatError.invalidField(path: path, expected: "an object") }
        guard let roleValue = json["role"] else { throw ChatFormatError.missingField(path: "\(path).role") }
        guard let roleName = roleValue.stringValue else {
            throw ChatFormatError.invalidField(path: "\(path).role", expected: "a string")
        }
        guard let role = ChatRole(rawValue: roleName) else { throw ChatFormatError.unknownRole(roleName) }
        self.init(role: role)

        content = try Self.decodeContent(json["content"], path: "\(path).content")
        reasoningContent = try optionalString(json["reasoning_content"], path: "\(path).reasoning_content")
        toolCallID = try optionalString(json["tool_call_id"], path: "\(path).tool_call_id")
        if let calls = json["tool_calls"], !calls.isNull {
            guard case .array(let items) = calls else {
                throw ChatFormatError.invalidField(path: "\(path).tool_calls", expected: "an array")
            }
            toolCalls = try items.enumerated().map { try ChatToolCall(json: $1, path: "\(path).tool_calls[\($0)]") }
        }
        tools = try ChatTool.decodeList(json["tools"], path: "\(path).tools")
        if let rf = json["response_format"], !rf.isNull { responseFormat = rf }
        if let taskName = try optionalString(json["task"], path: "\(path).task") {
            guard let t = ChatTask(rawValue: taskName) else {
                throw ChatFormatError.invalidValue(
                    path: "\(path).task", value: taskName, allowed: ChatTask.allCases.map(\.rawValue))
            }
            task = t
        }
        if let flag = json["wo_eos"], !flag.isNull {
            guard case .bool(let b) = flag else {
                throw ChatFormatError.invalidField(path: "\(path).wo_eos", expected: "a boolean")
            }
            withoutEOS = b
        }
        // `name`, `mask` and other fields have no effect on the prompt and are ignored.
    }

    /// Decodes a `messages` array.
    public static func decodeList(_ json: OrderedJSON, path: String = "messages") throws -> [ChatMessage] {
        guard case .array(let items) = json else { throw ChatFormatError.invalidField(path: path, expected: "an array") }
        return try items.enumerated().map { try ChatMessage(json: $1, path: "\(path)[\($0)]") }
    }

    static func decodeContent(_ json: OrderedJSON?, path: String) throws -> ChatContent? {
        switch json {
        case nil, .null?: return nil
        case .string(let s)?: return .text(s)
        case .array(let items)?:
            return .parts(try items.enumerated().map { n, item in
                guard case .object = item, let type = item["type"]?.stringValue else {
                    throw ChatFormatError.invalidField(path: "\(path)[\(n)]", expected: "an object with a string `type`")
                }
                return ChatContentPart(type: type, text: try optionalString(item["text"], path: "\(path)[\(n)].text"))
            })
        default:
            throw ChatFormatError.invalidField(path: path, expected: "a string, an array of parts or null")
        }
    }

    /// The OpenAI response shape of this message (`role`, `content`, `reasoning_content`,
    /// `tool_calls`, `tool_call_id`), for returning parsed completions.
    public var jsonValue: OrderedJSON {
        var m = [OrderedJSON.Member("role", .string(role.rawValue))]
        switch content {
        case nil: m.append(.init("content", .null))
        case .text(let s)?: m.append(.init("content", .string(s)))
        case .parts(let parts)?:
            m.append(.init("content", .array(parts.map { p in
                var o = [OrderedJSON.Member("type", .string(p.type))]
                if let t = p.text { o.append(.init("text", .string(t))) }
                return .object(o)
            })))
        }
        if let r = reasoningContent { m.append(.init("reasoning_content", .string(r))) }
        if !toolCalls.isEmpty { m.append(.init("tool_calls", .array(toolCalls.map(\.jsonValue)))) }
        if let id = toolCallID { m.append(.init("tool_call_id", .string(id))) }
        return .object(m)
    }
}

extension ChatToolCall {
    /// Decodes `{id?, type?, function: {name, arguments}}`. `arguments` must be a JSON string, as
    /// in the OpenAI API: DeepSeek's encoder mis-renders a raw object, so it is rejected here.
    public init(json: OrderedJSON, path: String = "tool_call") throws {
        guard case .object = json else { throw ChatFormatError.invalidField(path: path, expected: "an object") }
        guard let function = json["function"], case .object = function else {
            throw ChatFormatError.missingField(path: "\(path).function")
        }
        guard let name = function["name"]?.stringValue else {
            throw ChatFormatError.invalidField(path: "\(path).function.name", expected: "a string")
        }
        guard let arguments = function["arguments"] else {
            throw ChatFormatError.missingField(path: "\(path).function.arguments")
        }
        guard case .string(let argumentText) = arguments else {
            throw ChatFormatError.invalidField(path: "\(path).function.arguments", expected: "a JSON-encoded string")
        }
        self.init(
            id: try optionalString(json["id"], path: "\(path).id"), name: name, arguments: argumentText)
    }

    public var jsonValue: OrderedJSON {
        var m: [OrderedJSON.Member] = []
        if let id { m.append(.init("id", .string(id))) }
        m.append(.init("type", .string("function")))
        m.append(.init("function", ["name": .string(name), "arguments": .string(arguments)]))
        return .object(m)
    }
}

extension ChatTool {
    /// Decodes OpenAI `{type: "function", function: {...}}`.
    public init(json: OrderedJSON, path: String = "tool") throws {
        guard case .object = json else { throw ChatFormatError.invalidField(path: path, expected: "an object") }
        if let type = json["type"], type.stringValue != "function" {
            throw ChatFormatError.invalidField(path: "\(path).type", expected: "\"function\"")
        }
        guard let function = json["function"] else { throw ChatFormatError.missingField(path: "\(path).function") }
        guard case .object = function, function["name"]?.stringValue != nil else {
            throw ChatFormatError.invalidField(path: "\(path).function", expected: "an object with a string `name`")
        }
        self.function = function
    }

    /// Decodes a `tools` array; null or absent gives no tools.
    public static func decodeList(_ json: OrderedJSON?, path: String = "tools") throws -> [ChatTool] {
        switch json {
        case nil, .null?: return []
        case .array(let items)?: return try items.enumerated().map { try ChatTool(json: $1, path: "\(path)[\($0)]") }
        default: throw ChatFormatError.invalidField(path: path, expected: "an array")
        }
    }

    public var jsonValue: OrderedJSON { ["type": "function", "function": function] }
}

extension ChatEncodingOptions {
    /// Decodes `{thinking_mode, drop_thinking?, add_default_bos_token?, reasoning_effort?, context?}`
    /// (the test vectors' `options`).
    public init(json: OrderedJSON, path: String = "options") throws {
        guard let modeName = json["thinking_mode"]?.stringValue else {
            throw ChatFormatError.missingField(path: "\(path).thinking_mode")
        }
        guard let mode = ThinkingMode(rawValue: modeName) else {
            throw ChatFormatError.invalidValue(
                path: "\(path).thinking_mode", value: modeName, allowed: ThinkingMode.allCases.map(\.rawValue))
        }
        self.init(thinkingMode: mode)
        dropThinking = try optionalBool(json["drop_thinking"], path: "\(path).drop_thinking") ?? true
        addDefaultBOSToken = try optionalBool(json["add_default_bos_token"], path: "\(path).add_default_bos_token") ?? true
        if let effort = try optionalString(json["reasoning_effort"], path: "\(path).reasoning_effort") {
            guard let e = ReasoningEffort(rawValue: effort) else {
                throw ChatFormatError.invalidValue(
                    path: "\(path).reasoning_effort", value: effort, allowed: ReasoningEffort.allCases.map(\.rawValue))
            }
            reasoningEffort = e
        }
        if let ctx = json["context"], !ctx.isNull {
            context = try ChatMessage.decodeList(ctx, path: "\(path).context")
        }
    }
}

private func optionalString(_ json: OrderedJSON?, path: String) throws -> String? {
    switch json {
    case nil, .null?: return nil
    case .string(let s)?: return s
    default: throw ChatFormatError.invalidField(path: path, expected: "a string or null")
    }
}

private func optionalBool(_ json: OrderedJSON?, path: String) throws -> Bool? {
    switch json {
    case nil, .null?: return nil
    case .bool(let b)?: return b
    default: throw ChatFormatError.invalidField(path: path, expected: "a boolean")
    }
}
