/// The BPE merge loop for one pre-tokenized word.
///
/// Semantics match HF `tokenizers`: start from one symbol per byte, then repeatedly merge the
/// adjacent pair with the lowest merge rank, the leftmost one on ties, until no pair merges.
/// Symbols live in a doubly linked list over fixed slots; `rank[i]` caches the rank of the pair
/// (slot i, its successor), so each merge costs two table lookups. Short words pick the best pair
/// with a linear scan; long ones (long CJK runs, identifiers) use a binary heap to stay O(n log n).
struct BPEWorkspace {
    private var sym: [UInt32] = []
    private var merged: [UInt32] = []
    private var rank: [UInt32] = []
    private var next: [Int32] = []
    private var prev: [Int32] = []
    private var heap: [UInt64] = []  // rank << 32 | slot, min-heap

    static let linearLimit = 48

    /// Appends the ids of `word` (raw bytes) to `out`.
    mutating func encode(_ word: UnsafeBufferPointer<UInt8>, byteIds: [UInt32],
                         merges: MergeTable, into out: inout [Int]) {
        let n = word.count
        if n == 0 { return }
        if n == 1 { out.append(Int(byteIds[Int(word[0])])); return }
        if sym.count < n {
            let cap = max(n, 64)
            sym = .init(repeating: 0, count: cap); merged = sym; rank = sym
            next = .init(repeating: 0, count: cap); prev = next
        }
        for i in 0..<n {
            sym[i] = byteIds[Int(word[i])]
            next[i] = i + 1 < n ? Int32(i + 1) : -1
            prev[i] = Int32(i - 1)
        }
        for i in 0..<(n - 1) {
            (rank[i], merged[i]) = merges.lookup(sym[i], sym[i + 1])
        }
        rank[n - 1] = MergeTable.noRank
        if n <= Self.linearLimit {
            mergeLinear(merges)
        } else {
            mergeHeap(n, merges)
        }
        var i: Int32 = 0
        while i >= 0 {
            out.append(Int(sym[Int(i)]))
            i = next[Int(i)]
        }
    }

    /// Merge slot i with its successor and refresh the ranks of the two pairs that changed.
    @inline(__always)
    private mutating func apply(_ i: Int, _ merges: MergeTable) {
        let j = Int(next[i])
        sym[i] = merged[i]
        let after = next[j]
        next[i] = after
        if after >= 0 {
            prev[Int(after)] = Int32(i)
            (rank[i], merged[i]) = merges.lookup(sym[i], sym[Int(after)])
        } else {
            rank[i] = MergeTable.noRank
        }
        rank[j] = MergeTable.noRank
        let p = prev[i]
        if p >= 0 {
            (rank[Int(p)], merged[Int(p)]) = merges.lookup(sym[Int(p)], sym[i])
        }
    }

    private mutating func mergeLinear(_ merges: MergeTable) {
        while true {
            var best = MergeTable.noRank
            var bestSlot = -1
            var i: Int32 = 0
            while i >= 0 {
                let r = rank[Int(i)]
                if r < best { best = r; bestSlot = Int(i) }
                i = next[Int(i)]
            }
            if bestSlot < 0 { return }
            apply(bestSlot, merges)
        }
    }

    private mutating func mergeHeap(_ n: Int, _ merges: MergeTable) {
        heap.removeAll(keepingCapacity: true)
        for i in 0..<n where rank[i] != MergeTable.noRank { push(rank[i], i) }
        while let top = pop() {
            let r = UInt32(truncatingIfNeeded: top >> 32)
            let i = Int(UInt32(truncatingIfNeeded: top))
            // Stale entry: the pair at slot i changed since it was queued. Ranks are unique per
            // pair, so an equal rank means the very same pair is still there.
            if rank[i] != r { continue }
            apply(i, merges)
            if rank[i] != MergeTable.noRank { push(rank[i], i) }
            let p = prev[i]
            if p >= 0 && rank[Int(p)] != MergeTable.noRank { push(rank[Int(p)], Int(p)) }
        }
    }

    private mutating func push(_ r: UInt32, _ slot: Int) {
        heap.append(UInt64(r) << 32 | UInt64(slot))
        var c = heap.count - 1
        while c > 0 {
            let parent = (c - 1) >> 1
            if heap[parent] <= heap[c] { break }
            heap.swapAt(parent, c)
            c = parent
        }
    }

    private mutating func pop() -> UInt64? {
        guard let last = heap.popLast() else { return nil }
        if heap.isEmpty { return last }
        let top = heap[0]
        heap[0] = last
        var c = 0
        let count = heap.count
        while true {
            let l = 2 * c + 1
            if l >= count { break }
            let r = l + 1
            let m = r < count && heap[r] < heap[l] ? r : l
            if heap[c] <= heap[m] { break }
            heap.swapAt(c, m)
            c = m
        }
        return top
    }
}
