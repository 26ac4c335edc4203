/// The BPE merge loop for one pre-tokenized word.
///
/// Semantics match HF `tokenizers`: start from one symbol per byte, then repeatedly merge the
/// adjacent pair with the lowest merge rank, the leftmost one on ties, until no pair merges.
/// `rank[i]`/`merged[i]` cache the rule for the pair (symbol i, symbol i+1), so a merge costs two
/// table lookups. Short words keep symbols contiguous and pick the best pair by a linear scan;
/// long ones (CJK runs, long identifiers) use a linked list and a binary heap, O(n log n).
/// Buffers are raw memory owned by this object: no retain/release or uniqueness checks inside.
final class BPEWorkspace {
    static let linearLimit = 64

    private var capacity = 0
    private var sym: UnsafeMutablePointer<UInt32>
    private var merged: UnsafeMutablePointer<UInt32>
    private var rank: UnsafeMutablePointer<UInt32>
    private var next: UnsafeMutablePointer<Int32>
    private var prev: UnsafeMutablePointer<Int32>
    private var heap: [UInt64] = []  // rank << 32 | slot, min-heap

    init() {
        sym = .allocate(capacity: 1); merged = .allocate(capacity: 1); rank = .allocate(capacity: 1)
        next = .allocate(capacity: 1); prev = .allocate(capacity: 1)
        reserve(256)
    }

    deinit { free() }

    private func free() {
        sym.deallocate(); merged.deallocate(); rank.deallocate(); next.deallocate(); prev.deallocate()
    }

    private func reserve(_ n: Int) {
        guard n > capacity else { return }
        free()
        capacity = max(n, 2 * capacity)
        sym = .allocate(capacity: capacity); merged = .allocate(capacity: capacity)
        rank = .allocate(capacity: capacity)
        next = .allocate(capacity: capacity); prev = .allocate(capacity: capacity)
    }

    /// Appends the ids of `word` (raw bytes) to `out`.
    func encode(_ word: UnsafeBufferPointer<UInt8>, byteIds: UnsafePointer<UInt32>,
                merges: MergeTable, into out: inout [Int]) {
        let n = word.count
        if n == 0 { return }
        if n == 1 { out.append(Int(byteIds[Int(word[0])])); return }
        reserve(n)
        for i in 0..<n { sym[i] = byteIds[Int(word[i])] }
        for i in 0..<(n - 1) { (rank[i], merged[i]) = merges.lookup(sym[i], sym[i + 1]) }
        rank[n - 1] = MergeTable.noRank
        if n <= Self.linearLimit {
            let m = mergeLinear(n, merges)
            for i in 0..<m { out.append(Int(sym[i])) }
        } else {
            mergeHeap(n, merges)
            var i: Int32 = 0
            while i >= 0 { out.append(Int(sym[Int(i)])); i = next[Int(i)] }
        }
    }

    /// Contiguous symbols; returns the final symbol count.
    private func mergeLinear(_ count: Int, _ merges: MergeTable) -> Int {
        var n = count
        while n > 1 {
            var best = MergeTable.noRank
            var i = -1
            for k in 0..<(n - 1) where rank[k] < best { best = rank[k]; i = k }
            if i < 0 { break }
            sym[i] = merged[i]
            // Drop symbol i+1 and the pair rule that started there.
            let tail = n - i - 2
            if tail > 0 {
                (sym + i + 1).update(from: sym + i + 2, count: tail)
                (rank + i + 1).update(from: rank + i + 2, count: tail)
                (merged + i + 1).update(from: merged + i + 2, count: tail)
            }
            n -= 1
            if i + 1 < n { (rank[i], merged[i]) = merges.lookup(sym[i], sym[i + 1]) } else { rank[i] = MergeTable.noRank }
            if i > 0 { (rank[i - 1], merged[i - 1]) = merges.lookup(sym[i - 1], sym[i]) }
        }
        return n
    }

    private func mergeHeap(_ n: Int, _ merges: MergeTable) {
        for i in 0..<n {
            next[i] = i + 1 < n ? Int32(i + 1) : -1
            prev[i] = Int32(i - 1)
        }
        heap.removeAll(keepingCapacity: true)
        for i in 0..<n where rank[i] != MergeTable.noRank { push(rank[i], i) }
        while let top = pop() {
            let r = UInt32(truncatingIfNeeded: top >> 32)
            let i = Int(UInt32(truncatingIfNeeded: top))
            // Stale entry: the pair at slot i changed since it was queued. Ranks are unique per
            // pair, so an equal rank means the very same pair is still there.
            if rank[i] != r { continue }
            let j = Int(next[i])
            sym[i] = merged[i]
            let after = next[j]
            next[i] = after
            rank[j] = MergeTable.noRank
            if after >= 0 {
                prev[Int(after)] = Int32(i)
                (rank[i], merged[i]) = merges.lookup(sym[i], sym[Int(after)])
                if rank[i] != MergeTable.noRank { push(rank[i], i) }
            } else {
                rank[i] = MergeTable.noRank
            }
            let p = Int(prev[i])
            if p >= 0 {
                (rank[p], merged[p]) = merges.lookup(sym[p], sym[i])
                if rank[p] != MergeTable.noRank { push(rank[p], p) }
            }
        }
    }

    private func push(_ r: UInt32, _ slot: Int) {
        heap.append(UInt64(r) << 32 | UInt64(slot))
        var c = heap.count - 1
        while c > 0 {
            let parent = (c - 1) >> 1
            if heap[parent] <= heap[c] { break }
            heap.swapAt(parent, c)
            c = parent
        }
    }

    private func pop() -> UInt64? {
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
