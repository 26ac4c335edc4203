/// BPE merge rules as an open-addressing hash table: (leftId, rightId) → (rank, mergedId).
///
/// The merge loop does one lookup per adjacent pair it (re)considers, so this is the hottest
/// structure in encoding. A flat power-of-two table with a multiplicative hash avoids the
/// per-lookup cost of Swift's seeded SipHash `Dictionary`.
struct MergeTable: Sendable {
    static let noRank = UInt32.max

    private var keys: [UInt64]    // left << 32 | right; `empty` marks a free slot
    private var values: [UInt64]  // rank << 32 | mergedId
    private let mask: Int
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    /// Later duplicates overwrite earlier ones, as HF's HashMap-based loader does.
    mutating func insert(left: UInt32, right: UInt32, rank: UInt32, merged: UInt32) {
        let key = UInt64(left) << 32 | UInt64(right)
        var i = Self.slot(key, mask)
        while keys[i] != Self.empty && keys[i] != key { i = (i + 1) & mask }
        keys[i] = key
        values[i] = UInt64(rank) << 32 | UInt64(merged)
    }

    /// (rank, mergedId) for the pair, rank == noRank when the pair never merges.
    @inline(__always)
    func lookup(_ left: UInt32, _ right: UInt32) -> (rank: UInt32, merged: UInt32) {
        let key = UInt64(left) << 32 | UInt64(right)
        return keys.withUnsafeBufferPointer { k in
            var i = Self.slot(key, mask)
            while true {
                let stored = k[i]
                if stored == key {
                    let v = values[i]
                    return (UInt32(truncatingIfNeeded: v >> 32), UInt32(truncatingIfNeeded: v))
                }
                if stored == Self.empty { return (Self.noRank, 0) }
                i = (i + 1) & mask
            }
        }
    }
}
