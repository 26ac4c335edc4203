import RiptideTokenizer

/// Turns chat prompts into token ids so that special-token text written by a client (a user
/// typing `<think>` or `<｜User｜>`, a tool result containing `｜DSML｜`) stays ordinary text
/// instead of becoming the control token; only the markup the chat encoder itself writes does.
///
/// `Tokenizer.encode` matches added tokens anywhere in its input (as HF `tokenizers` does), so
/// client text is first *protected*: every added-token string in it is swapped for a sentinel
/// made of supplementary private-use characters, the encoder renders the prompt, and the
/// rendered text is tokenized piecewise: the text between sentinels with `encode`, each
/// sentinel as the plain-text ids of the string it stands for (split until no piece matches an
/// added token). A literal sentinel character in client text is protected the same way, so
/// every client string comes back byte for byte.
///
/// The plain-text ids of a protected string are not the ids HF would give with added-token
/// matching switched off (the split happens at the string's edges), but they decode to the same
/// text, which is what keeps the conversation's structure intact.
struct PromptTokenizer: Sendable {
    let tokenizer: Tokenizer
    /// Protected strings (the added tokens, then the sentinel's own opening character) in a trie.
    private let trie: ProtectedTrie
    private let plainIds: [[Int]]
    private let addedIds: Set<Int>

    static let sentinelOpen: Unicode.Scalar = "\u{F0000}"
    static let sentinelClose: Unicode.Scalar = "\u{F0001}"

    init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
        // DeepSeek's added tokens are ids 0-2 (BOS, EOS, pad) and 128000 and up; keep those whose
        // text the tokenizer really matches as one token.
        let vocab = tokenizer.vocabularySize
        var strings: [String] = []
        var ids = Set<Int>()
        for id in Array(0..<min(3, vocab)) + Array(min(128_000, vocab)..<vocab) {
            guard let s = tokenizer.token(forId: id), !s.isEmpty, tokenizer.encode(s) == [id] else { continue }
            strings.append(s)
            ids.insert(id)
        }
        strings.append(String(Character(Self.sentinelOpen)))
        var trie = ProtectedTrie()
        for (n, s) in strings.enumerated() { trie.insert(Array(s.utf8), index: n) }
        self.trie = trie
        self.addedIds = ids
        self.plainIds = strings.map { Self.plainEncode($0, tokenizer: tokenizer, added: ids) }
    }

    /// `text` with every protected string replaced by its sentinel.
    func protect(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var changed = false
        var i = 0
        while i < bytes.count {
            if let (end, n) = trie.longestMatch(bytes, from: i) {
                if !changed { out = Array(bytes[0..<i]); changed = true }
                out.append(contentsOf: Self.sentinel(n).utf8)
                i = end
                continue
            }
            if changed { out.append(bytes[i]) }
            i += 1
        }
        return changed ? String(decoding: out, as: UTF8.self) : text
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
            // Sentinel: open, decimal index, close.
            var j = i + open.count
            var index = 0
            var digits = 0
            while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39, digits < 9 {
                index = index * 10 + Int(bytes[j] - 0x30)
                j += 1
                digits += 1
            }
            guard digits > 0, j + close.count <= bytes.count, bytes[j..<j + close.count].elementsEqual(close),
                index < plainIds.count
            else {
                i += 1
                continue
            }
            flush(i)
            ids += plainIds[index]
            i = j + close.count
            segmentStart = i
        }
        flush(bytes.count)
        return ids
    }

    static func sentinel(_ n: Int) -> String {
        String(Character(sentinelOpen)) + String(n) + String(Character(sentinelClose))
    }

    /// Ids of `text` with no added token among them: halves are encoded separately until none matches.
    static func plainEncode(_ text: String, tokenizer: Tokenizer, added: Set<Int>) -> [Int] {
        let ids = tokenizer.encode(text)
        let scalars = Array(text.unicodeScalars)
        guard ids.contains(where: added.contains), scalars.count > 1 else { return ids }
        let half = scalars.count / 2
        var left = String.UnicodeScalarView(), right = String.UnicodeScalarView()
        left.append(contentsOf: scalars[..<half])
        right.append(contentsOf: scalars[half...])
        return plainEncode(String(left), tokenizer: tokenizer, added: added)
            + plainEncode(String(right), tokenizer: tokenizer, added: added)
    }
}

/// Byte trie of the protected strings: leftmost-longest matching, as the tokenizer does.
private struct ProtectedTrie: Sendable {
    private var edges: [UInt32: Int32] = [:]  // node << 8 | byte → child
    private var value: [Int32] = [-1]          // per node: protected-string index, or -1
    private var firstByte = [Bool](repeating: false, count: 256)

    mutating func insert(_ bytes: [UInt8], index: Int) {
        guard let first = bytes.first else { return }
        firstByte[Int(first)] = true
        var node: Int32 = 0
        for b in bytes {
            let key = UInt32(node) << 8 | UInt32(b)
            if let child = edges[key] {
                node = child
            } else {
                let child = Int32(value.count)
                value.append(-1)
                edges[key] = child
                node = child
            }
        }
        if value[Int(node)] < 0 { value[Int(node)] = Int32(index) }
    }

    /// (end offset, string index) of the longest protected string starting at `start`.
    func longestMatch(_ bytes: [UInt8], from start: Int) -> (Int, Int)? {
        guard firstByte[Int(bytes[start])] else { return nil }
        var node: Int32 = 0
        var best: (Int, Int)?
        var i = start
        while i < bytes.count, let child = edges[UInt32(node) << 8 | UInt32(bytes[i])] {
            node = child
            i += 1
            let v = value[Int(node)]
            if v >= 0 { best = (i, Int(v)) }
        }
        return best
    }
}
