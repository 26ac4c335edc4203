import RiptideKernels

/// A compressor's finished entries [count, dim], held as bf16 (their values are bf16-exact) in
/// chunks of `chunkEntries`. Copies share the chunks: a chunk is immutable once another copy holds
/// it, and an append to a shared partial chunk copies just that chunk. So a fork or a prefix
/// snapshot costs one reference per chunk, not the entries.
struct EntryStore {
    static let chunkEntries = 16
    let dim: Int
    private var chunks: [Chunk] = []
    private(set) var count = 0

    final class Chunk {
        var bits: [UInt16]   // [≤ chunkEntries, dim] bf16
        init(bits: [UInt16]) { self.bits = bits }
    }

    init(dim: Int) { self.dim = dim }

    /// Bytes of the entries held (the last chunk's unused tail is not counted).
    var bytes: Int { count * dim * 2 }

    /// Appends one entry, values [dim] (bf16-exact).
    mutating func append<C: Collection>(_ values: C) where C.Element == Float {
        precondition(values.count == dim)
        if count % Self.chunkEntries == 0 {
            var bits = [UInt16](); bits.reserveCapacity(Self.chunkEntries * dim)
            chunks.append(Chunk(bits: bits))
        } else if !isKnownUniquelyReferenced(&chunks[chunks.count - 1]) {
            chunks[chunks.count - 1] = Chunk(bits: chunks[chunks.count - 1].bits)
        }
        let chunk = chunks[chunks.count - 1]
        for v in values { chunk.bits.append(bf16Bits(v)) }
        count += 1
    }

    /// Entry e as fp32 into out[0..<dim].
    func decode(_ e: Int, into out: UnsafeMutablePointer<Float>) {
        chunks[e / Self.chunkEntries].bits.withUnsafeBufferPointer { b in
            let base = (e % Self.chunkEntries) * dim
            for c in 0..<dim { out[c] = bf16ToFloat(b[base + c]) }
        }
    }

    /// Every entry as fp32 [count, dim].
    var floats: [Float] {
        var out = [Float](repeating: 0, count: count * dim)
        out.withUnsafeMutableBufferPointer { p in
            for (i, chunk) in chunks.enumerated() {
                chunk.bits.withUnsafeBufferPointer { b in
                    let start = i * Self.chunkEntries * dim
                    for j in 0..<b.count { p[start + j] = bf16ToFloat(b[j]) }
                }
            }
        }
        return out
    }
}
