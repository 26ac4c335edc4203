import Foundation  // memcmp

/// Memo of word bytes → token ids. Natural text repeats a small set of words, so most pieces skip
/// the merge loop entirely. Keys and values live in two fixed arenas; the index is open addressing
/// on a 64-bit hash. When full it is simply cleared (cheap, and keeps recent words hot).
/// Raw storage: lookups sit on the per-word hot path and must not retain or bounds-check.
final class WordCache {
    static let maxWordBytes = 128
    private static let slots = 1 << 16               // index size; at most half is used
    private static let maxEntries = slots / 2
    private static let keyArenaSize = 1 << 20
    private static let valArenaSize = 1 << 19

    private let hashes: UnsafeMutablePointer<UInt64>  // 0 marks a free slot
    private let entry: UnsafeMutablePointer<Int32>    // slot → entry index
    private let keyStart: UnsafeMutablePointer<Int32> // entry e: keys[keyStart[e]..<keyStart[e+1]]
    private let valStart: UnsafeMutablePointer<Int32>
    private let keys: UnsafeMutablePointer<UInt8>
    private let vals: UnsafeMutablePointer<Int32>
    private var count = 0

    init() {
        hashes = .allocate(capacity: Self.slots)
        hashes.initialize(repeating: 0, count: Self.slots)
        entry = .allocate(capacity: Self.slots)
        keyStart = .allocate(capacity: Self.maxEntries + 1)
        valStart = .allocate(capacity: Self.maxEntries + 1)
        keyStart[0] = 0
        valStart[0] = 0
        keys = .allocate(capacity: Self.keyArenaSize)
        vals = .allocate(capacity: Self.valArenaSize)
    }

    deinit {
        hashes.deallocate(); entry.deallocate(); keyStart.deallocate(); valStart.deallocate()
        keys.deallocate(); vals.deallocate()
    }

    @inline(__always)
    static func hash(_ p: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(p.count)
        let base = UnsafeRawPointer(p.baseAddress!)
        var i = 0
        while i + 8 <= p.count {
            h = (h ^ base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < p.count { tail |= UInt64(p[i]) << shift; shift += 8; i += 1 }
        h = (h ^ tail) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
        return h | 1  // never 0
    }

    /// Appends the cached ids for `word` to `out` and returns true, or returns false on a miss.
    @inline(__always)
    func lookup(_ word: UnsafeBufferPointer<UInt8>, hash h: UInt64, into out: inout [Int]) -> Bool {
        var i = Int(truncatingIfNeeded: h >> 17) & (Self.slots - 1)
        while true {
            let stored = hashes[i]
            if stored == 0 { return false }
            if stored == h {
                let e = Int(entry[i])
                let ks = Int(keyStart[e]), ke = Int(keyStart[e + 1])
                if ke - ks == word.count && memcmp(keys + ks, word.baseAddress!, word.count) == 0 {
                    for k in Int(valStart[e])..<Int(valStart[e + 1]) { out.append(Int(vals[k])) }
                    return true
                }
            }
            i = (i + 1) & (Self.slots - 1)
        }
    }

    func insert(_ word: UnsafeBufferPointer<UInt8>, hash h: UInt64, ids: ArraySlice<Int>) {
        if count >= Self.maxEntries || Int(keyStart[count]) + word.count > Self.keyArenaSize
            || Int(valStart[count]) + ids.count > Self.valArenaSize {
            clear()
        }
        var i = Int(truncatingIfNeeded: h >> 17) & (Self.slots - 1)
        while hashes[i] != 0 { i = (i + 1) & (Self.slots - 1) }
        hashes[i] = h
        entry[i] = Int32(count)
        let ks = Int(keyStart[count]), vs = Int(valStart[count])
        (keys + ks).update(from: word.baseAddress!, count: word.count)
        var v = vs
        for id in ids { vals[v] = Int32(id); v += 1 }
        count += 1
        keyStart[count] = Int32(ks + word.count)
        valStart[count] = Int32(v)
    }

    private func clear() {
        hashes.update(repeating: 0, count: Self.slots)
        count = 0
    }
}
