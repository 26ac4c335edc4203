/// Server-side conventions around the encoder: what an OpenAI client may send, and where the
/// request-level `tools` go (spec §7). The encoder itself accepts everything DeepSeek's does.
extension DSV4ChatEncoder {
    /// Rejects what the public OpenAI-style API should not accept although the prompt format can
    /// encode it: the internal `developer`/`latest_reminder` roles and `task`, tool messages
    /// without `tool_call_id`, assistant tool calls without `id`, and tool-call arguments that are
    /// not a JSON object (the reference would silently wrap or crash on those).
    public static func validateForPublicAPI(_ messages: [ChatMessage]) throws {
        for (index, msg) in messages.enumerated() {
            if msg.role == .developer || msg.role == .latestReminder {
                throw ChatFormatError.roleNotAllowed(index: index, role: msg.role)
            }
            if msg.task != nil { throw ChatFormatError.fieldNotAllowed(index: index, field: "task") }
            if msg.role == .tool && (msg.toolCallID ?? "").isEmpty {
                throw ChatFormatError.toolMessageWithoutID(index: index)
            }
            for call in msg.toolCalls {
                if (call.id ?? "").isEmpty { throw ChatFormatError.toolCallWithoutID(index: index, toolName: call.name) }
                guard let parsed = try? OrderedJSON.parse(call.arguments) else {
                    throw ChatFormatError.invalidToolArgumentsJSON(toolName: call.name)
                }
                guard case .object = parsed else { throw ChatFormatError.toolArgumentsNotObject(toolName: call.name) }
            }
            if case .parts(let parts)? = msg.content, msg.role != .tool,
                let bad = parts.first(where: { $0.type != "text" })
            {
                throw ChatFormatError.unsupportedContentPart(index: index, type: bad.type)
            }
        }
    }

    /// Puts request-level tools where DeepSeek's integrations put them: on the first message when
    /// it is a system (or developer) message, else on a new empty system message at the front.
    public static func attachingRequestTools(_ tools: [ChatTool], to messages: [ChatMessage]) -> [ChatMessage] {
        guard !tools.isEmpty else { return messages }
        var out = messages
        if let first = out.first, first.role == .system || first.role == .developer {
            out[0].tools += tools
        } else {
            out.insert(ChatMessage(role: .system, content: .text(""), tools: tools), at: 0)
        }
        return out
    }
}
