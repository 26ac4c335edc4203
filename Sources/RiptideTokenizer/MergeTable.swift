/// BPE merge rules as an open-addressing hash table: (leftId, rightId) → (rank, mergedId).
///
/// The merge loop does one lookup per adjacent pair it (re)considers, so this is the hottest
/// structure in encoding. A flat power-of-two table with a multiplicative hash avoids the
/// per-lookup cost of Swift's seeded SipHash `Dictionary`; raw storage avoids retain/release
/// and bounds checks in the loop. Immutable after construction, hence safely shared.
final class MergeTable: @unchecked Sendable {
    static let noRank = UInt32.max

    /// Slot pairs: [2*i] = left << 32 | right (or `empty`), [2*i+1] = rank << 32 | mergedId.
    private let slots: UnsafeMutablePointer<UInt64>
    private let mask: Int
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = .allocate(capacity: 2 * size)
        slots.initialize(repeating: Self.empty, count: 2 * size)
        mask = size - 1
    }

    deinit { slots.deallocate() }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    /// Later duplicates overwrite earlier ones, as HF's HashMap-based loader does.
    func insert(left: UInt32, right: UInt32, rank: UInt32, merged: UInt32) {
        let key = UInt64(left) << 32 | UInt64(right)
        var i = Self.slot(key, mask)
        while slots[2 * i] != Self.empty && slots[2 * i] != key { i = (i + 1) & mask }
        slots[2 * i] = key
        slots[2 * i + 1] = UInt64(rank) << 32 | UInt64(merged)
    }

    /// (rank, mergedId) for the pair; rank == noRank when the pair never merges.
    @inline(__always)
    func lookup(_ left: UInt32, _ right: UInt32) -> (rank: UInt32, merged: UInt32) {
        let key = UInt64(left) << 32 | UInt64(right)
        var i = Self.slot(key, mask)
        while true {
            let stored = slots[2 * i]
            if stored == key {
                let v = slots[2 * i + 1]
                return (UInt32(truncatingIfNeeded: v >> 32), UInt32(truncatingIfNeeded: v))
            }
            if stored == Self.empty { return (Self.noRank, 0) }
            i = (i + 1) & mask
        }
    }
}
