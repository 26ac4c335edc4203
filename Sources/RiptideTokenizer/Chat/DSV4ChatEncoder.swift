/// Turns a conversation into the exact DeepSeek-V4 prompt string, reproducing DeepSeek's reference
/// encoder (`encoding_dsv4.py`) byte for byte. Section numbers refer to
/// shared/specs/dsv4-chat-encoding.md.
///
/// Deliberate departures, all on inputs where the reference crashes or prints Python artefacts:
/// content given as a list of text parts is joined with "\n\n" (non-text parts throw);
/// a null tool-result or reminder content renders as "" instead of "None".
public enum DSV4ChatEncoder {
    /// Encodes `messages` into a prompt. A conversation ending in a user/tool/developer turn ends
    /// with the generation prompt (`<｜Assistant｜><think>` or `<｜Assistant｜></think>`).
    public static func encode(_ messages: [ChatMessage], options: ChatEncodingOptions) throws -> String {
        let thinking = options.thinkingMode == .thinking

        // §4.1/4.2: merge tool results into user turns, then order results by call order. The
        // context takes part in the ordering (its assistant calls) but is not rendered.
        let rawContext = options.context.map { Prepared(message: $0, blocks: nil) }
        var newMessages = try mergeToolMessages(messages)
        newMessages = Array(sortToolResults(rawContext + newMessages).suffix(newMessages.count))
        let context = sortToolResults(try mergeToolMessages(options.context))
        var full = context + newMessages

        // §4.3: declared tools anywhere switch dropping off.
        let drop = options.dropThinking && !full.contains { !$0.message.tools.isEmpty }
        var firstToRender = context.count
        if thinking && drop {
            full = dropEarlierReasoning(full)
            // As in the reference, the context is filtered on its own to count what to skip.
            firstToRender = min(dropEarlierReasoning(context).count, full.count)
        }

        var prompt = options.addDefaultBOSToken && options.context.isEmpty ? DSV4ChatTokens.bos : ""
        let renderer = Renderer(
            messages: full, thinking: thinking, drop: drop, maxEffort: options.reasoningEffort == .max)
        for index in firstToRender..<full.count {
            try renderer.render(index, into: &prompt)
        }
        return prompt
    }

    /// The text the model generates for `message` after a prompt in `thinkingMode`:
    /// `reasoning</think>content[tool calls]EOS` (thinking) or `content[tool calls]EOS` (chat).
    /// Used to check the completion parser and to build prefill/training text.
    public static func renderCompletion(_ message: ChatMessage, thinkingMode: ThinkingMode) throws -> String {
        var out = thinkingMode == .thinking ? (message.reasoningContent ?? "") + DSV4ChatTokens.thinkEnd : ""
        out += try plainText(message.content, index: 0)
        out += try toolCallsBlock(message.toolCalls)
        return out + DSV4ChatTokens.eos
    }

    // MARK: - Preprocessing

    /// A message after merging: user turns carry blocks (text and tool results).
    struct Prepared {
        var message: ChatMessage
        var blocks: [UserBlock]?
    }

    enum UserBlock {
        case text(String)
        case toolResult(callID: String?, content: ChatContent?)
    }

    /// §4.1. Tool messages become tool-result blocks of a user turn; consecutive user messages
    /// share one turn unless the earlier one has a task.
    static func mergeToolMessages(_ messages: [ChatMessage]) throws -> [Prepared] {
        var out: [Prepared] = []
        for (index, msg) in messages.enumerated() {
            let lastIsBlockUser = out.last.map { $0.message.role == .user && $0.blocks != nil } ?? false
            switch msg.role {
            case .tool:
                let block = UserBlock.toolResult(callID: msg.toolCallID, content: msg.content)
                if lastIsBlockUser {
                    out[out.count - 1].blocks!.append(block)
                } else {
                    out.append(Prepared(message: ChatMessage(role: .user), blocks: [block]))
                }
            case .user:
                let block = UserBlock.text(try plainText(msg.content, index: index))
                if lastIsBlockUser && out[out.count - 1].message.task == nil {
                    out[out.count - 1].blocks!.append(block)
                } else {
                    // Only task and wo_eos survive; tools on a user message are dropped.
                    let turn = ChatMessage(role: .user, task: msg.task, withoutEOS: msg.withoutEOS)
                    out.append(Prepared(message: turn, blocks: [block]))
                }
            default:
                out.append(Prepared(message: msg, blocks: nil))
            }
        }
        return out
    }

    /// §4.2. Results answering parallel calls are put back in call order (stable; unknown ids
    /// sort as position 0), staying in the slots the result blocks held.
    static func sortToolResults(_ messages: [Prepared]) -> [Prepared] {
        var callOrder: [String: Int] = [:]
        var out = messages
        for n in out.indices {
            let msg = out[n].message
            if msg.role == .assistant && !msg.toolCalls.isEmpty {
                callOrder = [:]
                for (position, call) in msg.toolCalls.enumerated() {
                    if let id = call.id, !id.isEmpty { callOrder[id] = position }
                }
            } else if msg.role == .user, let blocks = out[n].blocks {
                let slots = blocks.indices.filter { if case .toolResult = blocks[$0] { true } else { false } }
                guard slots.count > 1, !callOrder.isEmpty else { continue }
                let rank: (UserBlock) -> Int = {
                    if case .toolResult(let id, _) = $0 { return callOrder[id ?? ""] ?? 0 }
                    return 0
                }
                let sorted = slots.map { blocks[$0] }.enumerated()
                    .sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }
                    .map(\.element)
                for (slot, block) in zip(slots, sorted) { out[n].blocks![slot] = block }
            }
        }
        return out
    }

    /// §4.3 filter (thinking mode with dropping): before the last user/developer turn, assistants
    /// lose their reasoning and developer messages disappear.
    static func dropEarlierReasoning(_ messages: [Prepared]) -> [Prepared] {
        let lastUser = lastUserIndex(messages)
        var out: [Prepared] = []
        for (index, item) in messages.enumerated() {
            switch item.message.role {
            case .user, .system, .tool, .latestReminder:
                out.append(item)
            case _ where index >= lastUser:
                out.append(item)
            case .assistant:
                var copy = item
                copy.message.reasoningContent = nil
                out.append(copy)
            case .developer:
                break
            }
        }
        return out
    }

    static func lastUserIndex(_ messages: [Prepared]) -> Int {
        messages.lastIndex { $0.message.role == .user || $0.message.role == .developer } ?? -1
    }

    // MARK: - Rendering (§5)

    struct Renderer {
        let messages: [Prepared]
        let thinking: Bool
        let drop: Bool
        let maxEffort: Bool
        let lastUser: Int

        init(messages: [Prepared], thinking: Bool, drop: Bool, maxEffort: Bool) {
            self.messages = messages
            self.thinking = thinking
            self.drop = drop
            self.maxEffort = maxEffort
            self.lastUser = DSV4ChatEncoder.lastUserIndex(messages)
        }

        func render(_ index: Int, into out: inout String) throws {
            let item = messages[index]
            let msg = item.message
            if index == 0 && thinking && maxEffort { out += DSV4PromptText.maxEffortPreamble }

            switch msg.role {
            case .system:
                // Pasted in place with no marker, wherever it sits.
                out += try plainText(msg.content, index: index)
                out += try extras(msg)
            case .developer:
                let text = try plainText(msg.content, index: index)
                guard !text.isEmpty else { throw ChatFormatError.emptyDeveloperContent(index: index) }
                out += DSV4ChatTokens.user + text + (try extras(msg))
            case .user:
                out += DSV4ChatTokens.user
                if let blocks = item.blocks {
                    out += blocks.map(renderBlock).joined(separator: "\n\n")
                } else {
                    out += try plainText(msg.content, index: index)
                }
            case .latestReminder:
                out += DSV4ChatTokens.latestReminder + (try plainText(msg.content, index: index))
            case .tool:
                throw ChatFormatError.roleNotAllowed(index: index, role: .tool)  // merged away in §4.1
            case .assistant:
                // The opening <think> came with the previous transition; a turn answering a task
                // has no think part at all.
                let previousHasTask = index > 0 && messages[index - 1].message.task != nil
                if thinking && !previousHasTask && (!drop || index > lastUser) {
                    out += (msg.reasoningContent ?? "") + DSV4ChatTokens.thinkEnd
                }
                out += try plainText(msg.content, index: index)
                out += try toolCallsBlock(msg.toolCalls)
                if !msg.withoutEOS { out += DSV4ChatTokens.eos }
            }
            appendTransition(after: index, into: &out)
        }

        /// §5.2: the generation prompt, added only before an assistant/latest_reminder message or
        /// at the very end.
        func appendTransition(after index: Int, into out: inout String) {
            if index + 1 < messages.count {
                let next = messages[index + 1].message.role
                guard next == .assistant || next == .latestReminder else { return }
            }
            let msg = messages[index].message
            if let task = msg.task {
                if task == .action {
                    out += DSV4ChatTokens.assistant + (thinking ? DSV4ChatTokens.thinkStart : DSV4ChatTokens.thinkEnd)
                }
                out += task.token
            } else if msg.role == .user || msg.role == .developer {
                let open = thinking && (!drop || index >= lastUser)
                out += DSV4ChatTokens.assistant + (open ? DSV4ChatTokens.thinkStart : DSV4ChatTokens.thinkEnd)
            }
        }

        /// Tools and response format, appended to system and developer messages.
        func extras(_ msg: ChatMessage) throws -> String {
            var out = ""
            if !msg.tools.isEmpty {
                out += "\n\n" + DSV4PromptText.toolsPrefix
                out += msg.tools.map { PythonJSONWriter.string($0.function) }.joined(separator: "\n")
                out += DSV4PromptText.toolsSuffix
            }
            if let rf = msg.responseFormat, isTruthy(rf) {
                out += "\n\n" + DSV4PromptText.responseFormatHeader + PythonJSONWriter.string(rf)
            }
            return out
        }

        func renderBlock(_ block: UserBlock) -> String {
            switch block {
            case .text(let text):
                return text
            case .toolResult(_, let content):
                let text: String
                switch content {
                case nil: text = ""
                case .text(let s)?: text = s
                case .parts(let parts)?:
                    text = parts.map { $0.type == "text" ? ($0.text ?? "") : "[Unsupported \($0.type)]" }
                        .joined(separator: "\n\n")
                }
                return "<tool_result>" + text + "</tool_result>"
            }
        }
    }

    // MARK: - Shared pieces

    /// Content as plain text: null is "", text parts are joined with "\n\n".
    static func plainText(_ content: ChatContent?, index: Int) throws -> String {
        switch content {
        case nil: return ""
        case .text(let s)?: return s
        case .parts(let parts)?:
            return try parts.map { part in
                guard part.type == "text" else {
                    throw ChatFormatError.unsupportedContentPart(index: index, type: part.type)
                }
                return part.text ?? ""
            }.joined(separator: "\n\n")
        }
    }

    /// `\n\n<｜DSML｜tool_calls>…</｜DSML｜tool_calls>`, or "" without calls (§5.1).
    static func toolCallsBlock(_ calls: [ChatToolCall]) throws -> String {
        guard !calls.isEmpty else { return "" }
        let dsml = DSV4ChatTokens.dsml
        let invokes = try calls.map { call in
            let params = try dsmlParameters(call).map { member in
                let (flag, value) = member.value.stringValue.map { ("true", $0) }
                    ?? ("false", PythonJSONWriter.string(member.value))
                return "<\(dsml)parameter name=\"\(member.key)\" string=\"\(flag)\">\(value)</\(dsml)parameter>"
            }
            return "<\(dsml)invoke name=\"\(call.name)\">\n" + params.joined(separator: "\n") + "\n</\(dsml)invoke>"
        }
        return "\n\n<\(dsml)tool_calls>\n" + invokes.joined(separator: "\n") + "\n</\(dsml)tool_calls>"
    }

    /// The parameters of a call: the members of its JSON-object arguments. Like the reference,
    /// arguments that are not JSON at all become one string parameter named `arguments`.
    static func dsmlParameters(_ call: ChatToolCall) throws -> [OrderedJSON.Member] {
        guard let parsed = try? OrderedJSON.parse(call.arguments) else {
            return [.init("arguments", .string(call.arguments))]
        }
        guard case .object(let members) = parsed else {
            throw ChatFormatError.toolArgumentsNotObject(toolName: call.name)
        }
        return members
    }

    /// Python truthiness, which decides whether a response format is rendered.
    static func isTruthy(_ value: OrderedJSON) -> Bool {
        switch value {
        case .null: return false
        case .bool(let b): return b
        case .integer(let digits): return digits != "0"
        case .float(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        }
    }
}
