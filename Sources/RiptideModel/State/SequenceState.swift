import RiptideKernels

/// Everything one sequence carries between forward calls (spec §4.9), held outside the weights so
/// an engine can keep many sequences and batch them freely. bf16 values (window ring, compressed
/// entries, indexer keys) are stored as bf16; the compressors' pending rows stay fp32.
public final class SequenceState: @unchecked Sendable {  // used by one thread at a time
    /// Tokens the main model has processed; the next token's position.
    public internal(set) var position = 0
    /// Positions the MTP block has processed.
    public internal(set) var mtpPosition = 0
    let layers: [AttentionState]
    let mtpLayers: [AttentionState]

    /// `mtp: false` leaves out the MTP block's state (an engine that does not draft).
    public init(config: ModelConfig, mtp: Bool = true) {
        layers = (0..<config.nLayers).map { AttentionState(config: config, ratio: config.compressRatios[$0]) }
        mtpLayers = mtp ? (0..<config.nMTPLayers).map { AttentionState(config: config, ratio: config.compressRatios[config.nLayers + $0]) } : []
    }

    private init(copying other: SequenceState) {
        position = other.position
        mtpPosition = other.mtpPosition
        layers = other.layers.map { $0.copy() }
        mtpLayers = other.mtpLayers.map { $0.copy() }
    }

    /// An independent copy at the same position: a fork (n > 1), a prefix snapshot, or a restore
    /// from one. Finished compressed entries are shared with the original, not copied.
    public func copy() -> SequenceState { SequenceState(copying: self) }

    /// Bytes this state holds now (shared entries counted in full).
    public var bytes: Int { (layers + mtpLayers).reduce(0) { $0 + $1.bytes } }

    /// Bytes per main layer, then per MTP layer.
    public var layerBytes: [Int] { (layers + mtpLayers).map(\.bytes) }

    /// Bytes a state holds after `tokens` tokens: the fixed part (rings and pending rows) plus the
    /// compressed entries and indexer keys, which grow with the sequence.
    public static func bytes(config c: ModelConfig, tokens: Int, mtp: Bool = true) -> Int {
        let ratios = c.compressRatios.prefix(c.nLayers + (mtp ? c.nMTPLayers : 0))
        return ratios.reduce(0) { total, r in
            var b = c.windowSize * c.headDim * 2
            if r > 0 { b += CompressorState.pendingBytes(ratio: r, dim: c.headDim) + tokens / r * c.headDim * 2 }
            if r == 4 { b += CompressorState.pendingBytes(ratio: 4, dim: c.indexHeadDim) + tokens / 4 * c.indexHeadDim * 2 }
            return total + b
        }
    }
}

/// One attention layer's cache for one sequence.
final class AttentionState {
    /// Window ring [window, head_dim] bf16: position p at slot p mod window.
    var ring: [UInt16]
    /// Main compressor (ratio > 0) and the indexer's compressor (ratio 4).
    let compressor: CompressorState?
    let indexer: CompressorState?

    init(config c: ModelConfig, ratio: Int) {
        ring = [UInt16](repeating: 0, count: c.windowSize * c.headDim)
        compressor = ratio > 0 ? CompressorState(ratio: ratio, dim: c.headDim) : nil
        indexer = ratio == 4 ? CompressorState(ratio: 4, dim: c.indexHeadDim) : nil
    }

    private init(ring: [UInt16], compressor: CompressorState?, indexer: CompressorState?) {
        self.ring = ring
        self.compressor = compressor
        self.indexer = indexer
    }

    func copy() -> AttentionState { AttentionState(ring: ring, compressor: compressor?.copy(), indexer: indexer?.copy()) }

    var bytes: Int { ring.count * 2 + (compressor?.bytes ?? 0) + (indexer?.bytes ?? 0) }

    /// Writes row [d] (bf16 values) to the ring slot of position p.
    func writeRing<C: Collection>(_ row: C, position p: Int, dim d: Int) where C.Element == Float {
        let slot = (p % (ring.count / d)) * d
        ring.withUnsafeMutableBufferPointer { r in for (i, v) in row.enumerated() { r[slot + i] = bf16Bits(v) } }
    }

    /// The ring as fp32 into out[0..<window·d].
    func decodeRing(into out: UnsafeMutablePointer<Float>) {
        ring.withUnsafeBufferPointer { r in for i in 0..<r.count { out[i] = bf16ToFloat(r[i]) } }
    }
}

/// A compressor's pending rows and its finished entries (spec §4.4).
final class CompressorState {
    let ratio: Int, dim: Int
    /// Pending rows [c·ratio, c·dim] (c = 2 when overlapping): kv and score (score includes ape).
    /// Overlap: rows [0, ratio) hold the previous complete block, rows [ratio, 2·ratio) the current.
    var kv: [Float]
    var score: [Float]
    /// Finished entries [count, dim] (bf16).
    var entries: EntryStore
    var count: Int { entries.count }

    init(ratio: Int, dim: Int) {
        self.ratio = ratio
        self.dim = dim
        let c = ratio == 4 ? 2 : 1
        kv = [Float](repeating: 0, count: c * ratio * c * dim)
        score = [Float](repeating: -.infinity, count: c * ratio * c * dim)
        entries = EntryStore(dim: dim)
    }

    private init(copying o: CompressorState) {
        ratio = o.ratio; dim = o.dim
        kv = o.kv; score = o.score; entries = o.entries
    }

    func copy() -> CompressorState { CompressorState(copying: self) }

    static func pendingBytes(ratio: Int, dim: Int) -> Int {
        let c = ratio == 4 ? 2 : 1
        return 2 * c * ratio * c * dim * 4
    }

    var bytes: Int { (kv.count + score.count) * 4 + entries.bytes }
}
