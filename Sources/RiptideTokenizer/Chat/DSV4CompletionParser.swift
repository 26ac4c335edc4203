/// What the streaming completion parser reports. Concatenating all deltas of one kind gives the
/// same text as the whole-text parse; concatenating a call's argument fragments gives its JSON.
public enum ChatStreamEvent: Sendable, Equatable {
    case reasoning(String)
    case content(String)
    case toolCallStart(index: Int, name: String)
    /// A piece of the call's arguments JSON string (OpenAI streams `arguments` the same way).
    case toolCallArguments(index: Int, fragment: String)
    case toolCallEnd(index: Int)
    /// The end-of-sentence token was seen; later text is ignored.
    case endOfSequence
    /// The output broke the format. The parser carries on with a fallback: missing `</think>`
    /// ends the reasoning at the next marker, broken DSML markup continues as plain content.
    case formatIssue(String)
}

/// A completion split into its parts (spec §7.1).
public struct ParsedCompletion: Sendable, Equatable {
    /// "" in chat mode.
    public var reasoningContent: String = ""
    public var content: String = ""
    /// Finished calls, in order, with `id` nil (the server mints ids).
    public var toolCalls: [ChatToolCall] = []
    /// Whether the end-of-sentence token was seen (false: a length stop, or a truncated text).
    public var sawEndOfSequence = false
    /// Format problems found; empty for well-formed output.
    public var issues: [String] = []

    /// Calls that were started but not finished (stream cut off inside a tool-call block).
    private var openCalls: [Int: ChatToolCall] = [:]

    public init() {}

    /// Folds one stream event into the result (handy for servers that both stream and keep a
    /// final message).
    public mutating func apply(_ event: ChatStreamEvent) {
        switch event {
        case .reasoning(let text): reasoningContent += text
        case .content(let text): content += text
        case .toolCallStart(let index, let name): openCalls[index] = ChatToolCall(name: name, arguments: "")
        case .toolCallArguments(let index, let fragment): openCalls[index]?.arguments += fragment
        case .toolCallEnd(let index):
            if let call = openCalls.removeValue(forKey: index) { toolCalls.append(call) }
        case .endOfSequence: sawEndOfSequence = true
        case .formatIssue(let issue): issues.append(issue)
        }
    }

    /// The assistant message in OpenAI shape: `content` is null for a pure tool-call turn, and
    /// `reasoning_content` is present only when non-empty.
    public var message: ChatMessage {
        ChatMessage(
            role: .assistant, content: content.isEmpty && !toolCalls.isEmpty ? nil : .text(content),
            reasoningContent: reasoningContent.isEmpty ? nil : reasoningContent, toolCalls: toolCalls)
    }
}

/// Whole-text completion parsing, built on `DSV4CompletionStream` so that streamed and
/// non-streamed results cannot disagree.
public enum DSV4CompletionParser {
    /// Lenient parse for serving: never throws; problems are listed in `issues` and handled with
    /// the spec's fallbacks (no `</think>`: all reasoning; no EOS: the rest is content; broken
    /// DSML: the raw markup from the broken point on is content).
    ///
    /// `text` is the generated text after the prompt, with EOS as text if generation stopped on it.
    public static func parseLenient(_ text: String, thinkingMode: ThinkingMode) -> ParsedCompletion {
        var stream = DSV4CompletionStream(thinkingMode: thinkingMode)
        var result = ParsedCompletion()
        for event in stream.feed(text) + stream.finish() { result.apply(event) }
        return result
    }

    /// Strict parse with the reference's rules: throws `ChatFormatError.malformedCompletion` on
    /// any issue, including special tokens (BOS, EOS, `<think>`, `</think>`, `｜DSML｜`) left
    /// inside the reasoning or content.
    public static func parse(_ text: String, thinkingMode: ThinkingMode) throws -> ParsedCompletion {
        let result = parseLenient(text, thinkingMode: thinkingMode)
        var issues = result.issues
        let reserved = [
            DSV4ChatTokens.bos, DSV4ChatTokens.eos, DSV4ChatTokens.thinkStart, DSV4ChatTokens.thinkEnd,
            DSV4ChatTokens.dsml,
        ]
        for token in reserved {
            if result.content.utf8.contains(token.utf8) { issues.append("content contains \(token)") }
            if result.reasoningContent.utf8.contains(token.utf8) { issues.append("reasoning contains \(token)") }
        }
        guard issues.isEmpty else { throw ChatFormatError.malformedCompletion(issues) }
        return result
    }
}

extension String.UTF8View {
    /// Byte-wise substring test (String.contains would compare by canonical equivalence).
    fileprivate func contains(_ needle: String.UTF8View) -> Bool {
        let hay = Array(self), pattern = Array(needle)
        guard !pattern.isEmpty, hay.count >= pattern.count else { return pattern.isEmpty }
        for start in 0...(hay.count - pattern.count) where hay[start] == pattern[0] {
            if hay[start..<start + pattern.count].elementsEqual(pattern) { return true }
        }
        return false
    }
}
