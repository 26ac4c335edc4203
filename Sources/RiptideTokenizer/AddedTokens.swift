/// Added (special and control) tokens, matched in the raw text before pre-tokenization.
///
/// HF `tokenizers` does this in two passes: tokens with normalized=false are found in the raw
/// text, then tokens with normalized=true are found in the (normalized) gaps left between them.
/// Each pass is leftmost-longest: the earliest start wins, and among tokens starting there the
/// longest. A byte trie per pass gives exactly that when walked from each start position.
struct AddedTokens: Sendable {
    private var raw = ByteTrie()         // normalized: false
    private var normalized = ByteTrie()  // normalized: true (this tokenizer's normalizer is empty)

    mutating func add(_ content: String, id: Int, normalized isNormalized: Bool) {
        if isNormalized {
            normalized.insert(Array(content.utf8), id: Int32(id))
        } else {
            raw.insert(Array(content.utf8), id: Int32(id))
        }
    }

    /// Splits `text[range]` into plain-text segments (`onText`) and added tokens (`onToken`).
    func split(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
               onText: (Range<Int>) -> Void, onToken: (Int) -> Void) {
        raw.split(text, range, onText: { gap in
            normalized.split(text, gap, onText: onText, onToken: onToken)
        }, onToken: onToken)
    }
}

struct ByteTrie: Sendable {
    private var edges: [UInt32: Int32] = [:]  // node << 8 | byte → child node
    private var tokenId: [Int32] = [-1]       // per node; -1 when no token ends here
    private var firstByte = [Bool](repeating: false, count: 256)

    mutating func insert(_ bytes: [UInt8], id: Int32) {
        guard let first = bytes.first else { return }
        firstByte[Int(first)] = true
        var node: Int32 = 0
        for b in bytes {
            let key = UInt32(node) << 8 | UInt32(b)
            if let child = edges[key] {
                node = child
            } else {
                let child = Int32(tokenId.count)
                tokenId.append(-1)
                edges[key] = child
                node = child
            }
        }
        tokenId[Int(node)] = id
    }

    /// The longest token starting at `start` and ending by `end`: (end offset, id).
    @inline(__always)
    private func longest(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (Int, Int)? {
        var node: Int32 = 0
        var best: (Int, Int)? = nil
        var i = start
        while i < end, let child = edges[UInt32(node) << 8 | UInt32(text[i])] {
            node = child
            i += 1
            let id = tokenId[Int(node)]
            if id >= 0 { best = (i, Int(id)) }
        }
        return best
    }

    func split(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
               onText: (Range<Int>) -> Void, onToken: (Int) -> Void) {
        var gap = range.lowerBound
        var i = range.lowerBound
        let end = range.upperBound
        if tokenId.count > 1 {
            while i < end {
                if firstByte[Int(text[i])], let (stop, id) = longest(text, i, end) {
                    if gap < i { onText(gap..<i) }
                    onToken(id)
                    i = stop; gap = stop
                } else {
                    i += 1
                }
            }
        }
        if gap < end { onText(gap..<end) }
    }
}
