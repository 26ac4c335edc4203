/// Everything one sequence carries between forward calls (spec §4.9), held outside the weights so
/// an engine can keep many sequences and batch them freely.
public final class SequenceState {
    /// Tokens the main model has processed; the next token's position.
    public internal(set) var position = 0
    /// Positions the MTP block has processed.
    public internal(set) var mtpPosition = 0
    let layers: [AttentionState]
    let mtpLayers: [AttentionState]

    public init(config: ModelConfig) {
        layers = (0..<config.nLayers).map { AttentionState(config: config, ratio: config.compressRatios[$0]) }
        mtpLayers = (0..<config.nMTPLayers).map { AttentionState(config: config, ratio: config.compressRatios[config.nLayers + $0]) }
    }
}

/// One attention layer's cache for one sequence.
final class AttentionState {
    /// Window ring [window, head_dim]: position p at slot p mod window.
    var ring: [Float]
    /// Main compressor (ratio > 0) and the indexer's compressor (ratio 4).
    let compressor: CompressorState?
    let indexer: CompressorState?

    init(config c: ModelConfig, ratio: Int) {
        ring = [Float](repeating: 0, count: c.windowSize * c.headDim)
        compressor = ratio > 0 ? CompressorState(ratio: ratio, dim: c.headDim) : nil
        indexer = ratio == 4 ? CompressorState(ratio: 4, dim: c.indexHeadDim) : nil
    }
}

/// A compressor's pending rows and its finished entries (spec §4.4).
final class CompressorState {
    let ratio: Int, dim: Int
    /// Pending rows [c·ratio, c·dim] (c = 2 when overlapping): kv and score (score includes ape).
    /// Overlap: rows [0, ratio) hold the previous complete block, rows [ratio, 2·ratio) the current.
    var kv: [Float]
    var score: [Float]
    /// Finished entries [count, dim] (bf16 values).
    var entries: [Float] = []
    var count: Int { entries.count / dim }

    init(ratio: Int, dim: Int) {
        self.ratio = ratio
        self.dim = dim
        let c = ratio == 4 ? 2 : 1
        kv = [Float](repeating: 0, count: c * ratio * c * dim)
        score = [Float](repeating: -.infinity, count: c * ratio * c * dim)
    }
}
