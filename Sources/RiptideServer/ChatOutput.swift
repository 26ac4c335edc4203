import Logging
import RiptideEngine
import RiptideTokenizer

/// One piece of a chat delta, in OpenAI terms.
enum ChatDeltaPiece: Sendable, Equatable {
    case reasoning(String)
    case content(String)
    /// A new tool call: the server-minted id and the function name.
    case toolCallStart(index: Int, id: String, name: String)
    case toolCallArguments(index: Int, fragment: String)
}

/// One choice of a chat completion: generated text goes through DeepSeek's streaming completion
/// parser and comes out as reasoning, content and tool-call deltas, and, at the end, as the
/// whole assistant message. Streamed and non-streamed responses come from the same events, so
/// they cannot disagree.
struct ChatChoiceOutput: Sendable {
    struct Call: Sendable {
        var id: String
        var name: String
        var arguments: String
        var finished: Bool
    }

    let index: Int
    let thinkingMode: ThinkingMode
    private var parser: DSV4CompletionStream
    /// Tool calls are returned only when offered (tool_choice is not "none"), and only the
    /// first when parallel_tool_calls is false.
    private let maxCalls: Int
    /// Parser call index → index among the returned calls.
    private var callSlot: [Int: Int] = [:]
    private(set) var reasoning = ""
    private(set) var content = ""
    private(set) var calls: [Call] = []
    private(set) var issues: [String] = []
    private(set) var droppedCalls = 0
    private(set) var completionTokens = 0
    private(set) var reasoningTokens = 0
    private var inReasoning: Bool
    private let thinkEndId: Int?
    private let eosId: Int?
    var finishReason: FinishReason?
    var matchedStop: String?

    init(index: Int, thinkingMode: ThinkingMode, maxCalls: Int, tokenizer: Tokenizer) {
        self.index = index
        self.thinkingMode = thinkingMode
        self.parser = DSV4CompletionStream(thinkingMode: thinkingMode)
        self.maxCalls = maxCalls
        self.inReasoning = thinkingMode == .thinking
        self.thinkEndId = tokenizer.id(forToken: DSV4ChatTokens.thinkEnd)
        self.eosId = tokenizer.id(forToken: DSV4ChatTokens.eos)
    }

    /// Pieces completed by this engine delta. With ignore_eos, an end-of-sentence token is not
    /// the end of the reply, so its text is left out of what the parser sees.
    mutating func feed(_ delta: TokenDelta, ignoreEOS: Bool) -> [ChatDeltaPiece] {
        completionTokens += delta.tokens.count
        for token in delta.tokens where inReasoning {
            reasoningTokens += 1
            if token == thinkEndId { inReasoning = false }
        }
        var text = delta.text
        if ignoreEOS, let eosId, delta.tokens.contains(eosId) {
            text = text.replacingAll(DSV4ChatTokens.eos, with: "")
        }
        return apply(parser.feed(text))
    }

    /// Pieces still held back when the choice finished. What the parser says about the end of the
    /// text is only news when the model stopped by itself: a length stop or an abort cuts the
    /// reply anywhere, and EOS itself is dropped from the text by skip_special_tokens.
    mutating func finish(reason: FinishReason) -> [ChatDeltaPiece] {
        let before = issues.count
        let pieces = apply(parser.finish())
        let endIssues = issues[before...].filter { issue in
            reason == .stop && !issue.hasPrefix("missing end-of-sentence token")
        }
        issues.removeSubrange(before...)
        issues += endIssues
        return pieces
    }

    private mutating func apply(_ events: [ChatStreamEvent]) -> [ChatDeltaPiece] {
        var pieces: [ChatDeltaPiece] = []
        for event in events {
            switch event {
            case .reasoning(let t):
                reasoning += t
                Self.merge(.reasoning(t), into: &pieces)
            case .content(let t):
                content += t
                Self.merge(.content(t), into: &pieces)
            case .toolCallStart(let n, let name):
                guard calls.count < maxCalls else { droppedCalls += 1; continue }
                let slot = calls.count
                callSlot[n] = slot
                let id = Self.newCallID()
                calls.append(Call(id: id, name: name, arguments: "", finished: false))
                pieces.append(.toolCallStart(index: slot, id: id, name: name))
            case .toolCallArguments(let n, let fragment):
                guard let slot = callSlot[n] else { continue }
                calls[slot].arguments += fragment
                if case .toolCallArguments(slot, let previous)? = pieces.last {
                    pieces[pieces.count - 1] = .toolCallArguments(index: slot, fragment: previous + fragment)
                } else {
                    pieces.append(.toolCallArguments(index: slot, fragment: fragment))
                }
            case .toolCallEnd(let n):
                if let slot = callSlot[n] { calls[slot].finished = true }
            case .endOfSequence:
                break
            case .formatIssue(let issue):
                issues.append(issue)
            }
        }
        return pieces
    }

    private static func merge(_ piece: ChatDeltaPiece, into pieces: inout [ChatDeltaPiece]) {
        switch (pieces.last, piece) {
        case (.reasoning(let a)?, .reasoning(let b)): pieces[pieces.count - 1] = .reasoning(a + b)
        case (.content(let a)?, .content(let b)): pieces[pieces.count - 1] = .content(a + b)
        default: pieces.append(piece)
        }
    }

    /// Finished calls only: a call cut off by the length limit or broken markup is not returned.
    var finishedCalls: [Call] { calls.filter(\.finished) }

    /// OpenAI's finish_reason: a reply that ends after tool calls is "tool_calls".
    var finishReasonText: String {
        switch finishReason {
        case .stop?: return finishedCalls.isEmpty ? "stop" : "tool_calls"
        case .length?: return "length"
        case .abort?, nil: return "abort"
        }
    }

    /// The assistant message of a non-streamed response.
    var message: OrderedJSON {
        let finished = finishedCalls
        var m: OrderedJSON = ["role": "assistant"]
        m.append("content", content.isEmpty && !finished.isEmpty ? .null : .string(content))
        if thinkingMode == .thinking { m.append("reasoning_content", .string(reasoning)) }
        if !finished.isEmpty {
            m.append("tool_calls", .array(finished.map { call in
                [
                    "id": .string(call.id), "type": "function",
                    "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
                ]
            }))
        }
        return m
    }

    /// Logs what the parser had to repair, and calls that were dropped.
    func logIssues(_ logger: Logger, requestID: String) {
        for issue in issues {
            logger.notice("malformed model output", metadata: ["request": "\(requestID)", "choice": "\(index)", "issue": "\(issue)"])
        }
        if droppedCalls > 0 {
            logger.notice(
                "tool calls dropped (tool_choice none or parallel_tool_calls false)",
                metadata: ["request": "\(requestID)", "choice": "\(index)", "dropped": "\(droppedCalls)"])
        }
    }

    /// "call_" and 24 random letters and digits.
    static func newCallID() -> String { "call_" + randomToken(24) }
}

/// Random letters and digits, for response and tool-call ids.
func randomToken(_ count: Int) -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    var rng = SystemRandomNumberGenerator()
    return String((0..<count).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
}

extension String {
    /// Byte-wise replacement (Foundation's would compare by canonical equivalence).
    func replacingAll(_ target: String, with replacement: String) -> String {
        let hay = Array(utf8), needle = Array(target.utf8)
        guard !needle.isEmpty, hay.count >= needle.count else { return self }
        var out: [UInt8] = []
        out.reserveCapacity(hay.count)
        var i = 0
        while i < hay.count {
            if i + needle.count <= hay.count && hay[i] == needle[0] && hay[i..<i + needle.count].elementsEqual(needle) {
                out.append(contentsOf: replacement.utf8)
                i += needle.count
            } else {
                out.append(hay[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
