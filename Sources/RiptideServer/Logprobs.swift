import RiptideEngine
import RiptideTokenizer

/// Logprobs in the two OpenAI shapes. A token's text is its own decoding (a token that ends
/// inside a UTF-8 character shows U+FFFD there; `bytes` has the exact bytes).
enum Logprobs {
    /// Chat: `{"content": [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]}`.
    static func chat(_ entries: [TokenLogprob], tokenizer: Tokenizer) -> OrderedJSON {
        ["content": .array(entries.map { chatEntry($0, tokenizer: tokenizer) })]
    }

    static func chatEntry(_ lp: TokenLogprob, tokenizer: Tokenizer) -> OrderedJSON {
        func one(_ token: Int, _ logprob: Float) -> OrderedJSON {
            [
                "token": .string(tokenizer.decode([token])), "logprob": .number(logprob),
                "bytes": .array(tokenizer.decodeBytes([token]).map { .int(Int($0)) }),
            ]
        }
        var entry = one(lp.token, lp.logprob)
        entry.append("top_logprobs", .array(lp.top.map { one($0.token, $0.logprob) }))
        return entry
    }

    /// Legacy completions: `{tokens, token_logprobs, top_logprobs: [{text: logprob}], text_offset}`.
    struct Completion: Sendable {
        var tokens: [String] = []
        var tokenLogprobs: [Float] = []
        var top: [[(String, Float)]] = []
        var offsets: [Int] = []
        /// Characters (code points, as Python counts them) of the tokens so far.
        var offset = 0

        mutating func append(_ entries: [TokenLogprob], tokenizer: Tokenizer) {
            for lp in entries {
                let text = tokenizer.decode([lp.token])
                tokens.append(text)
                tokenLogprobs.append(lp.logprob)
                top.append(lp.top.map { (tokenizer.decode([$0.token]), $0.logprob) })
                offsets.append(offset)
                offset += text.unicodeScalars.count
            }
        }

        /// The entries added since `start` (a streamed chunk's share).
        func json(from start: Int = 0) -> OrderedJSON {
            let range = start..<tokens.count
            return [
                "tokens": .array(range.map { .string(tokens[$0]) }),
                "token_logprobs": .array(range.map { .number(tokenLogprobs[$0]) }),
                "top_logprobs": .array(range.map { i in
                    var members: [OrderedJSON.Member] = []
                    for (text, lp) in top[i] where !members.contains(where: { $0.key == text }) {
                        members.append(.init(text, .number(lp)))
                    }
                    return .object(members)
                }),
                "text_offset": .array(range.map { .int(offsets[$0]) }),
            ]
        }
    }
}
