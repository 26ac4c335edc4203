import Foundation  // memcmp

/// Memo of word bytes → token ids. Natural text repeats a small set of words, so most pieces skip
/// the merge loop entirely. Keys and values live in two arenas; the index is open addressing on a
/// 64-bit hash. When full it is simply cleared (cheap, and keeps recent words hot).
struct WordCache {
    static let maxWordBytes = 128
    private static let slots = 1 << 15              // index size; at most half is used
    private static let maxEntries = slots / 2
    private static let maxArena = 1 << 20

    private var hashes = [UInt64](repeating: 0, count: slots)  // 0 marks a free slot
    private var entry = [Int32](repeating: 0, count: slots)     // index into starts
    private var keyStart: [Int32] = [0]                          // entry e: keyArena[keyStart[e]..<keyStart[e+1]]
    private var valStart: [Int32] = [0]
    private var keyArena: [UInt8] = []
    private var valArena: [Int32] = []

    init() {}

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
                if ke - ks == word.count && keyArena.withUnsafeBufferPointer({
                    memcmp($0.baseAddress! + ks, word.baseAddress!, word.count) == 0
                }) {
                    let vs = Int(valStart[e]), ve = Int(valStart[e + 1])
                    for k in vs..<ve { out.append(Int(valArena[k])) }
                    return true
                }
            }
            i = (i + 1) & (Self.slots - 1)
        }
    }

    mutating func insert(_ word: UnsafeBufferPointer<UInt8>, hash h: UInt64, ids: ArraySlice<Int>) {
        let entries = keyStart.count - 1
        if entries >= Self.maxEntries || keyArena.count + word.count > Self.maxArena
            || valArena.count + ids.count > Self.maxArena {
            clear()
        }
        var i = Int(truncatingIfNeeded: h >> 17) & (Self.slots - 1)
        while hashes[i] != 0 { i = (i + 1) & (Self.slots - 1) }
        hashes[i] = h
        entry[i] = Int32(keyStart.count - 1)
        keyArena.append(contentsOf: word)
        for id in ids { valArena.append(Int32(id)) }
        keyStart.append(Int32(keyArena.count))
        valStart.append(Int32(valArena.count))
    }

    private mutating func clear() {
        for i in hashes.indices { hashes[i] = 0 }
        keyStart.removeAll(keepingCapacity: true); keyStart.append(0)
        valStart.removeAll(keepingCapacity: true); valStart.append(0)
        keyArena.removeAll(keepingCapacity: true)
        valArena.removeAll(keepingCapacity: true)
    }
}
