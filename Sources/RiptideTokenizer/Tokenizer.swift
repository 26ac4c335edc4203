import Foundation

/// DeepSeek-V4 byte-level BPE tokenizer with exact parity to Hugging Face `tokenizers`.
///
/// Pipeline for `encode`: added tokens are cut out of the raw text (AddedTokens), each remaining
/// segment is pre-tokenized (PreTokenizer), and each piece is BPE-merged on its raw bytes
/// (BPEWorkspace, memoized in WordCache). No BOS/EOS is added: the ByteLevel post-processor of
/// this tokenizer adds nothing.
public final class Tokenizer: Sendable {
    private let merges: MergeTable
    private let byteIds: [UInt32]            // id of the single-byte token for each byte
    private let added: AddedTokens
    private let tokenIds: TokenIndex
    private let tokens: [String?]            // id → token string (added tokens override vocab)
    private let decodeStart: [Int32]         // id → its bytes in decodeArena
    private let decodeArena: [UInt8]
    private let pool = ScratchPool()
    /// id → whether tokenizer.json marks it `special` (skipped by `skip_special_tokens`).
    private let specialIds: Set<Int>

    /// Number of id slots, added tokens included (129,280 for DeepSeek-V4).
    public let vocabularySize: Int

    /// Loads a Hugging Face `tokenizer.json`. Throws `TokenizerError` naming the file on failure.
    public init(contentsOf url: URL) throws {
        let file = try TokenizerFile(url: url)
        let path = url.path
        func bad(_ problem: String) -> TokenizerError { TokenizerError(.invalidFormat, path: path, problem) }

        var size = 0
        for (_, id) in file.vocab { size = max(size, id + 1) }
        for t in file.addedTokens { size = max(size, t.id + 1) }
        var tokens = [String?](repeating: nil, count: size)
        var vocab = TokenIndex(capacity: file.vocab.count + file.addedTokens.count)
        for (token, id) in file.vocab {
            tokens[id] = token
            vocab.set(token, id)
        }
        guard vocab.count == file.vocab.count else { throw bad("model.vocab has duplicate tokens") }

        // Initial BPE symbols: one per byte, each must exist in the vocab.
        var byteIds = [UInt32](repeating: 0, count: 256)
        for b in 0..<256 {
            let s = String(Character(ByteLevel.byteToScalar[b]))
            guard let id = vocab.id(s) else { throw bad("model.vocab lacks the byte-level token for byte \(b) (\"\(s)\")") }
            byteIds[b] = UInt32(id)
        }

        let merges = MergeTable(capacity: file.merges.count)
        for (rank, (left, right)) in file.merges.enumerated() {
            guard let l = vocab.id(left), let r = vocab.id(right), let m = vocab.id(left + right) else {
                throw bad("merge #\(rank) \"\(left) \(right)\" refers to a token missing from model.vocab")
            }
            merges.insert(left: UInt32(l), right: UInt32(r), rank: UInt32(rank), merged: UInt32(m))
        }

        // Lookups by string see added tokens first, as HF's token_to_id does.
        var tokenIds = vocab
        var added = AddedTokens()
        for t in file.addedTokens {
            tokens[t.id] = t.content
            tokenIds.set(t.content, t.id)
            added.add(t.content, id: t.id, normalized: t.normalized)
        }

        var start: [Int32] = [0]
        var arena: [UInt8] = []
        start.reserveCapacity(size + 1)
        for token in tokens {
            if let token { arena.append(contentsOf: ByteLevel.decodedBytes(ofToken: token)) }
            start.append(Int32(arena.count))
        }

        self.merges = merges
        self.byteIds = byteIds
        self.added = added
        self.tokenIds = tokenIds
        self.tokens = tokens
        self.decodeStart = start
        self.decodeArena = arena
        self.vocabularySize = size
        self.specialIds = Set(file.addedTokens.filter(\.special).map(\.id))
    }

    /// Whether tokenizer.json marks this id as a special token (BOS, EOS, chat and DSML markers).
    public func isSpecial(_ id: Int) -> Bool { specialIds.contains(id) }

    /// The tokenizer.json shipped in this package.
    public static func bundled() throws -> Tokenizer {
        try Tokenizer(contentsOf: BundledTokenizer.url)
    }

    public func id(forToken token: String) -> Int? { tokenIds.id(token) }

    public func token(forId id: Int) -> String? {
        id >= 0 && id < tokens.count ? tokens[id] : nil
    }

    // MARK: Encoding

    /// Token ids of `text`. Added/special tokens written in the text become their ids.
    public func encode(_ text: String) -> [Int] {
        var text = text
        return text.withUTF8 { encode(utf8: $0) }
    }

    /// Token ids of `text` with added tokens not matched: their text is encoded as ordinary text
    /// (HF's `split_special_tokens=True`), so a client typing `<think>` gets no control token.
    public func encodePlain(_ text: String) -> [Int] {
        var text = text, ids: [Int] = []
        text.withUTF8 { utf8 in
            let scratch = pool.take()
            byteIds.withUnsafeBufferPointer { encodeSegment(utf8, 0..<utf8.count, scratch, $0.baseAddress!, &ids) }
            pool.put(scratch)
        }
        return ids
    }

    /// Splits `text` as `encode` matches added tokens in it: `body(piece, nil)` for ordinary text,
    /// `body(tokenText, id)` for each added token, in order.
    public func splitAddedTokens(_ text: String, _ body: (Substring, Int?) -> Void) {
        var copy = text
        copy.withUTF8 { utf8 in
            let piece = { (r: Range<Int>) -> Substring in
                let u = text.utf8
                return Substring(text[u.index(u.startIndex, offsetBy: r.lowerBound)..<u.index(u.startIndex, offsetBy: r.upperBound)])
            }
            added.split(utf8, 0..<utf8.count, onText: { body(piece($0), nil) },
                        onToken: { id in body(Substring(tokens[id] ?? ""), id) })
        }
    }

    /// Same as `encode(_:)` for text already in (valid) UTF-8.
    func encode(utf8 text: UnsafeBufferPointer<UInt8>) -> [Int] {
        var ids: [Int] = []
        if text.isEmpty { return ids }
        ids.reserveCapacity(text.count / 3 + 4)
        let scratch = pool.take()
        byteIds.withUnsafeBufferPointer { byteIds in
            added.split(text, 0..<text.count, onText: { segment in
                encodeSegment(text, segment, scratch, byteIds.baseAddress!, &ids)
            }, onToken: { ids.append($0) })
        }
        pool.put(scratch)
        return ids
    }

    /// Pre-tokenizes one segment without added tokens and BPE-encodes each piece.
    private func encodeSegment(_ text: UnsafeBufferPointer<UInt8>, _ segment: Range<Int>, _ scratch: Scratch,
                               _ byteIds: UnsafePointer<UInt32>, _ ids: inout [Int]) {
        let merges = self.merges, bpe = scratch.bpe, cache = scratch.cache
        scratch.pre.split(text, segment) { start, end in
            let word = UnsafeBufferPointer(rebasing: text[start..<end])
            if word.count == 1 { ids.append(Int(byteIds[Int(word[0])])); return }
            guard word.count <= WordCache.maxWordBytes else {
                bpe.encode(word, byteIds: byteIds, merges: merges, into: &ids)
                return
            }
            let h = WordCache.hash(word)
            if cache.lookup(word, hash: h, into: &ids) { return }
            let first = ids.count
            bpe.encode(word, byteIds: byteIds, merges: merges, into: &ids)
            cache.insert(word, hash: h, ids: ids[first...])
        }
    }

    // MARK: Decoding

    /// Bytes of the ids' tokens concatenated (HF ByteLevel decoder). Unknown ids are skipped.
    public func decodeBytes(_ ids: [Int]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        for id in ids { appendBytes(of: id, to: &out) }
        return out
    }

    /// Text of the ids; invalid UTF-8 becomes U+FFFD per maximal subpart, as Rust's
    /// `String::from_utf8_lossy` in HF does. Special tokens are included (skip_special_tokens=false).
    public func decode(_ ids: [Int]) -> String {
        String(decoding: decodeBytes(ids), as: UTF8.self)
    }

    @inline(__always)
    func appendBytes(of id: Int, to out: inout [UInt8]) {
        guard id >= 0 && id < vocabularySize else { return }
        let s = Int(decodeStart[id]), e = Int(decodeStart[id + 1])
        out.append(contentsOf: decodeArena[s..<e])
    }
}

/// Reusable encode buffers. `ScratchPool` lends one set at a time; a concurrent caller that
/// finds it lent out builds its own, so encodes never wait on each other.
final class Scratch {
    let pre = PreTokenizer()
    let bpe = BPEWorkspace()
    let cache = WordCache()
}

final class ScratchPool: @unchecked Sendable {
    private let lock = NSLock()
    private var spare: Scratch?

    func take() -> Scratch {
        lock.lock()
        defer { lock.unlock() }
        if let s = spare { spare = nil; return s }
        return Scratch()
    }

    func put(_ s: Scratch) {
        s.pre.shrinkIfLarge()
        lock.lock()
        spare = s
        lock.unlock()
    }
}
