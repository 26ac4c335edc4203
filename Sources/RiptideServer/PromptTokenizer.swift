import RiptideTokenizer

/// Turns chat prompts into token ids so that special-token text written by a client (a user
/// typing `<think>` or `<｜User｜>`, a tool result containing `｜DSML｜`) stays ordinary text
/// instead of becoming the control token; only the markup the chat encoder itself writes does.
///
/// Client text is first *protected*: every added token the tokenizer would match in it is swapped
/// for a sentinel of supplementary private-use characters naming its id; the encoder renders the
/// prompt, and the rendered text is tokenized piecewise: the text between sentinels with
/// `encode`, each sentinel as the plain-text ids of its token (`encodePlain`). A literal sentinel
/// character in client text is protected the same way, so every client string comes back byte for
/// byte.
struct PromptTokenizer: Sendable {
    let tokenizer: Tokenizer

    static let sentinelOpen: Unicode.Scalar = "\u{F0000}"
    static let sentinelClose: Unicode.Scalar = "\u{F0001}"
    /// The sentinel index that stands for a literal `sentinelOpen` in client text.
    static let literalOpen = -1

    init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

    /// `text` with every added token and literal sentinel character replaced by a sentinel.
    func protect(_ text: String) -> String {
        var out = ""
        var changed = false
        tokenizer.splitAddedTokens(text) { piece, id in
            if let id {
                out += Self.sentinel(id)
                changed = true
            } else if piece.unicodeScalars.contains(Self.sentinelOpen) {
                for scalar in piece.unicodeScalars {
                    if scalar == Self.sentinelOpen { out += Self.sentinel(Self.literalOpen) } else { out.unicodeScalars.append(scalar) }
                }
                changed = true
            } else {
                out += piece
            }
        }
        return changed ? out : text
    }

    /// Every string field of a JSON value (keys included) protected.
    func protect(_ json: OrderedJSON) -> OrderedJSON {
        switch json {
        case .string(let s): return .string(protect(s))
        case .array(let items): return .array(items.map(protect))
        case .object(let members): return .object(members.map { .init(protect($0.key), protect($0.value)) })
        default: return json
        }
    }

    /// Every client-written string of a message protected: content, reasoning, tool calls
    /// (name and arguments, re-serialized), tool schemas and response format.
    func protect(_ m: ChatMessage) -> ChatMessage {
        var m = m
        switch m.content {
        case .text(let s)?: m.content = .text(protect(s))
        case .parts(let parts)?:
            m.content = .parts(parts.map { ChatContentPart(type: $0.type, text: $0.text.map(protect)) })
        case nil: break
        }
        m.reasoningContent = m.reasoningContent.map(protect)
        m.toolCalls = m.toolCalls.map { call in
            var c = call
            c.name = protect(call.name)
            if let args = try? OrderedJSON.parse(call.arguments) {
                c.arguments = PythonJSONWriter.string(protect(args))
            } else {
                c.arguments = protect(call.arguments)
            }
            return c
        }
        m.tools = m.tools.map { tool in (try? ChatTool(function: protect(tool.function))) ?? tool }
        m.responseFormat = m.responseFormat.map(protect)
        return m
    }

    /// Token ids of a rendered prompt whose client text was protected.
    func encode(protectedPrompt prompt: String) -> [Int] {
        let bytes = Array(prompt.utf8)
        let open = Array(String(Character(Self.sentinelOpen)).utf8)
        let close = Array(String(Character(Self.sentinelClose)).utf8)
        var ids: [Int] = []
        var segmentStart = 0
        var i = 0
        func flush(_ end: Int) {
            if end > segmentStart { ids += tokenizer.encode(String(decoding: bytes[segmentStart..<end], as: UTF8.self)) }
        }
        while i < bytes.count {
            guard bytes[i] == open[0], i + open.count <= bytes.count, bytes[i..<i + open.count].elementsEqual(open) else {
                i += 1
                continue
            }
            // Sentinel: open, decimal index (or -1), close.
            var j = i + open.count
            let negative = j < bytes.count && bytes[j] == 0x2D
            if negative { j += 1 }
            var index = 0
            var digits = 0
            while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39, digits < 9 {
                index = index * 10 + Int(bytes[j] - 0x30)
                j += 1
                digits += 1
            }
            if negative { index = -index }
            guard digits > 0, j + close.count <= bytes.count, bytes[j..<j + close.count].elementsEqual(close),
                  let text = index == Self.literalOpen ? String(Character(Self.sentinelOpen)) : tokenizer.token(forId: index)
            else {
                i += 1
                continue
            }
            flush(i)
            ids += tokenizer.encodePlain(text)
            i = j + close.count
            segmentStart = i
        }
        flush(bytes.count)
        return ids
    }

    static func sentinel(_ n: Int) -> String {
        String(Character(sentinelOpen)) + String(n) + String(Character(sentinelClose))
    }
}
