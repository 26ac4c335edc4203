/// Token string → id, compared by exact UTF-8 bytes as HF does. (A `[String: Int]` would be
/// slower to build, since Swift hashes non-ASCII strings through Unicode normalization, and would
/// treat canonically equivalent spellings as the same token.)
struct TokenIndex: Sendable {
    private var table: [Int32]      // open addressing: entry index, or -1 when free
    private var starts: [Int32] = [0]  // entry e: bytes[starts[e]..<starts[e+1]]
    private var bytes: [UInt8] = []
    private var ids: [Int32] = []
    private let mask: Int

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        table = [Int32](repeating: -1, count: size)
        mask = size - 1
        bytes.reserveCapacity(capacity * 8)
        ids.reserveCapacity(capacity)
        starts.reserveCapacity(capacity + 1)
    }

    var count: Int { ids.count }

    private static func hash(_ p: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in p { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return Int(truncatingIfNeeded: ((h ^ (h >> 29)) &* 0x9E37_79B9_7F4A_7C15) >> 20)
    }

    /// Slot holding `key`, or the free slot where it belongs.
    private func slot(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var i = Self.hash(key) & mask
        while true {
            let e = Int(table[i])
            if e < 0 { return i }
            let s = Int(starts[e]), t = Int(starts[e + 1])
            if t - s == key.count && bytes[s..<t].elementsEqual(key) { return i }
            i = (i + 1) & mask
        }
    }

    /// Adds or replaces the id of `token`.
    mutating func set(_ token: String, _ id: Int) {
        var token = token
        token.withUTF8 { key in
            let i = slot(key)
            if table[i] >= 0 {
                ids[Int(table[i])] = Int32(id)
            } else {
                table[i] = Int32(ids.count)
                bytes.append(contentsOf: key)
                starts.append(Int32(bytes.count))
                ids.append(Int32(id))
            }
        }
    }

    func id(_ token: String) -> Int? {
        var token = token
        return token.withUTF8 { key in
            let e = table[slot(key)]
            return e >= 0 ? Int(ids[Int(e)]) : nil
        }
    }
}
