/// Incremental decoding for streaming servers: feed ids one at a time, get back only the text
/// that became complete. A multi-byte character split across tokens (common for CJK and emoji
/// in byte-level BPE) is held back until its last byte arrives.
///
/// The concatenation of every `append` result plus `finish()` equals `tokenizer.decode(ids)`:
/// UTF-8 decoding with U+FFFD replacement can be cut before any non-continuation byte without
/// changing its output, and we only ever cut there.
public struct StreamingDetokenizer: Sendable {
    private let tokenizer: Tokenizer
    private var pending: [UInt8] = []  // bytes not yet emitted: at most one incomplete character

    public init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// Text completed by this token (possibly empty).
    public mutating func append(_ id: Int) -> String {
        tokenizer.appendBytes(of: id, to: &pending)
        let keep = Self.incompleteSuffixLength(pending)
        if keep == pending.count { return "" }
        let text = String(decoding: pending[..<(pending.count - keep)], as: UTF8.self)
        pending.removeFirst(pending.count - keep)
        return text
    }

    /// Whatever is left; an unfinished character becomes U+FFFD.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the trailing bytes that form a valid but unfinished UTF-8 sequence (0 if none).
    static func incompleteSuffixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // Find the last non-continuation byte among the final four.
        var start = n - 1
        while start >= 0 && start >= n - 4 && bytes[start] & 0xC0 == 0x80 { start -= 1 }
        guard start >= 0 && start >= n - 4 else { return 0 }
        let lead = bytes[start]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return 0  // ASCII, or a byte that can never start a character
        }
        let have = n - start
        if have >= need { return 0 }
        // The second byte has a narrower range after some lead bytes (no overlongs/surrogates).
        if have >= 2 {
            let b1 = bytes[start + 1]
            let ok: Bool
            switch lead {
            case 0xE0: ok = b1 >= 0xA0
            case 0xED: ok = b1 <= 0x9F
            case 0xF0: ok = b1 >= 0x90
            case 0xF4: ok = b1 <= 0x8F
            default: ok = true
            }
            if !ok { return 0 }
        }
        return have
    }
}
