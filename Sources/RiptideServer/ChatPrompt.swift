import RiptideEngine
import RiptideTokenizer

/// From a parsed chat request to prompt token ids: where the request-level tools and
/// response_format go, how tool_choice is expressed, and the encoder options.
enum ChatPrompt {
    /// Said in the system prompt (before the tool block) for `tool_choice: "required"`.
    static let requiredInstruction = "You MUST call at least one of the tools below in your reply."

    /// Said in the system prompt for a named `tool_choice`.
    static func namedInstruction(_ name: String) -> String {
        "You MUST call the tool \"\(name)\" in your reply."
    }

    /// The conversation as the encoder gets it.
    /// - tools go on the leading system message, or on an empty system message put in front
    ///   (DeepSeek's integrations' convention, spec §7); with `tool_choice: "none"` they are not
    ///   offered at all, so the model has nothing to call (and the server drops any call it makes
    ///   anyway, rather than leaking markup into the content);
    /// - `required` and named choices add an instruction to that system message (no constrained
    ///   decoding: a reply without the call comes back as it is);
    /// - `response_format` goes on the same system message, rendered after the tools.
    static func messages(for request: ChatCompletionRequest) -> [ChatMessage] {
        let offered = request.toolChoice == .none ? [] : request.tools
        var messages = DSV4ChatEncoder.attachingRequestTools(offered, to: request.messages)
        let instruction: String?
        switch request.toolChoice {
        case .required: instruction = requiredInstruction
        case .function(let name): instruction = namedInstruction(name)
        case .auto, .none: instruction = nil
        }
        guard instruction != nil || request.responseFormat != nil else { return messages }
        if messages.first?.role != .system {
            messages.insert(ChatMessage(role: .system, content: .text("")), at: 0)
        }
        if let instruction {
            switch messages[0].content {
            case .text(let s)?: messages[0].content = .text(s.isEmpty ? instruction : s + "\n\n" + instruction)
            case .parts(let parts)?: messages[0].content = .parts(parts + [.text(instruction)])
            case nil: messages[0].content = .text(instruction)
            }
        }
        if let rf = request.responseFormat { messages[0].responseFormat = rf }
        return messages
    }

    static func options(for request: ChatCompletionRequest) -> ChatEncodingOptions {
        // Declared tools keep earlier reasoning in the prompt (encoder rule §4.3); keep it too when
        // they are declared but not offered (tool_choice none), so the history renders the same.
        ChatEncodingOptions(
            thinkingMode: request.thinking, dropThinking: request.dropThinking && request.tools.isEmpty,
            reasoningEffort: request.reasoningEffort)
    }

    /// Prompt token ids, with client text kept out of the control tokens.
    static func tokens(for request: ChatCompletionRequest, tokenizer: PromptTokenizer) throws -> [Int] {
        let messages = Self.messages(for: request).map(tokenizer.protect)
        let text: String
        do {
            text = try DSV4ChatEncoder.encode(messages, options: options(for: request))
        } catch let e as ChatFormatError {
            throw APIError.invalid(e.description, param: "messages")
        }
        return tokenizer.encode(protectedPrompt: text)
    }
}
