import Foundation
import RiptideCheckpoint
import RiptideKernels

/// DeepSeek-V4 with its weights; sequences' states live outside (`SequenceState`), so one forward
/// call can run a batch of independent sequences each doing prefill, extend or decode.
public final class Transformer: @unchecked Sendable {  // immutable after load
    public let config: ModelConfig
    let embed: WeightMatrix      // [V, D] bf16
    let head: WeightMatrix       // [V, D] bf16, used in fp32
    let norm: [Float]
    let hcHead: HyperConnection
    let layers: [Block]
    let mtp: [MTPBlock]
    let hc: HyperConnectionMath

    public let kernels: KernelChoice

    /// Loads and validates every tensor the config implies; `.fast` also repacks the linears.
    public init(checkpoint: Checkpoint, config: ModelConfig, kernels: KernelChoice = .reference) throws {
        guard config.scoreFunc != .softmax else {
            throw RiptideModelError.invalidWeights("scoring_func 'softmax' is unsupported: DeepSeek-V4 routes with sqrtsoftplus (spec §5)")
        }
        self.config = config
        self.kernels = kernels
        let w = WeightLoader(checkpoint: checkpoint, config: config, kernels: kernels)
        embed = try w.matrix("embed.weight", packed: false)  // only looked up by row
        head = try w.matrix("head.weight")
        norm = try w.floats("norm.weight")
        hcHead = HyperConnection(fn: try w.matrix("hc_head_fn"), scale: try w.floats("hc_head_scale"), base: try w.floats("hc_head_base"))
        layers = try (0..<config.nLayers).map { try Block(w, prefix: "layers.\($0).", layer: $0) }
        mtp = try (0..<config.nMTPLayers).map { try MTPBlock(w, prefix: "mtp.\($0).", layer: config.nLayers + $0) }
        hc = HyperConnectionMath(config: config)
    }

    /// Opens a model directory: config.json plus the safetensors weights.
    public convenience init(directory: URL, kernels: KernelChoice = .reference) throws {
        let config = try ModelConfig(contentsOf: directory.appendingPathComponent("config.json"))
        try self.init(checkpoint: try Checkpoint(directory: directory), config: config, kernels: kernels)
    }

    /// A fresh sequence; `mtp: false` leaves out the MTP block's state (no drafting).
    public func newSequence(mtp: Bool = true) -> SequenceState { SequenceState(config: config, mtp: mtp) }

    /// One sequence's part of a forward call.
    public struct Request {
        public let tokens: [Int]
        public let state: SequenceState
        /// Run a prompt at position 0 through the decode path (as chunked prefill's first chunk
        /// would) instead of the prefill path.
        public let forceIncremental: Bool
        /// Return the final streams (for MTP) and the logits of every new position, not just the last.
        public let wantsStreams: Bool, wantsAllLogits: Bool

        public init(tokens: [Int], state: SequenceState, forceIncremental: Bool = false,
                    wantsStreams: Bool = false, wantsAllLogits: Bool = false) {
            self.tokens = tokens
            self.state = state
            self.forceIncremental = forceIncremental
            self.wantsStreams = wantsStreams
            self.wantsAllLogits = wantsAllLogits
        }
    }

    /// What a forward call returns per sequence.
    public struct Output {
        /// fp32 logits of the sequence's last new position [vocab].
        public let logits: [Float]
        /// Final 4-stream states of every new position [S, hc, D] (bf16), the MTP block's input;
        /// empty unless the request asked (`wantsStreams`).
        public let finalStreams: [Float]
        /// fp32 logits of every new position [S, vocab]; empty unless asked (`wantsAllLogits`).
        public let allLogits: [Float]
    }

    /// Runs every request's new tokens; each sequence continues at `state.position`. Position 0
    /// takes the prefill path; later positions take the decode path token by token (extend).
    /// The output head runs once over the rows whose logits are returned.
    public func forward(_ batch: [Request], trace: ModelTrace? = nil) throws -> [Output] {
        try timed(trace, \.total) { try forwardBatch(batch, trace: trace) }
    }

    private func forwardBatch(_ batch: [Request], trace: ModelTrace?) throws -> [Output] {
        var tokens: [Int] = [], positions: [Int] = [], segments: [Segment] = []
        for r in batch {
            guard !r.tokens.isEmpty else { throw RiptideModelError.invalidInput("a request has no tokens") }
            if let bad = r.tokens.first(where: { !(0..<config.vocabSize).contains($0) }) {
                throw RiptideModelError.invalidInput("token id \(bad) is outside the vocabulary (0..<\(config.vocabSize))")
            }
            guard r.state.position + r.tokens.count <= config.maxPositionEmbeddings else {
                throw RiptideModelError.invalidInput("\(r.state.position + r.tokens.count) positions exceed max_position_embeddings \(config.maxPositionEmbeddings)")
            }
            let start = r.state.position
            segments.append(Segment(rows: tokens.count..<(tokens.count + r.tokens.count), startPosition: start,
                                    incremental: start > 0 || r.forceIncremental))
            tokens += r.tokens
            positions += (start..<(start + r.tokens.count))
        }
        let dim = config.dim, width = config.hcMult * dim
        var h = [Float](repeating: 0, count: tokens.count * width)
        h.withUnsafeMutableBufferPointer { hp in
            for (i, id) in tokens.enumerated() {
                embed.dequantizeRow(id, into: hp.baseAddress! + i * width)
                for s in 1..<config.hcMult { (hp.baseAddress! + i * width + s * dim).update(from: hp.baseAddress! + i * width, count: dim) }
            }
        }
        for (l, layer) in layers.enumerated() {
            h = layer.forward(h, tokens: tokens, positions: positions, segments: segments,
                              states: batch.map { $0.state.layers[l] }, trace: trace)
            if let trace, trace.recordsResidualRMS {
                var squares = 0.0
                for v in h { squares += Double(v) * Double(v) }
                trace.residualRMS.append(Float((squares / Double(h.count)).squareRoot()))
            }
        }
        for r in batch { r.state.position += r.tokens.count }
        // Rows whose logits are wanted: every new row of a request that asks, else its last.
        let headRows = zip(batch, segments).map { r, s in r.wantsAllLogits ? s.rows : (s.rows.upperBound - 1)..<s.rows.upperBound }
        let all = timed(trace, \.head) {
            logits(lastStreams: headRows.flatMap { $0 }.map { h[($0 * width)..<(($0 + 1) * width)] }, hcHead: hcHead, norm: norm)
        }
        let vocab = config.vocabSize
        var first = 0
        return zip(batch, zip(segments, headRows)).map { r, sh in
            let (s, rows) = sh
            defer { first += rows.count }
            let mine = all[(first * vocab)..<((first + rows.count) * vocab)]
            return Output(logits: Array(mine.suffix(vocab)),
                          finalStreams: r.wantsStreams ? Array(h[(s.rows.lowerBound * width)..<(s.rows.upperBound * width)]) : [],
                          allLogits: r.wantsAllLogits ? Array(mine) : [])
        }
    }

    /// hc_head → RMSNorm → head, for each position's streams [hc, D]: logits [rows, vocab]. One
    /// head product for all rows (the head is the largest single weight).
    func logits(lastStreams rows: [ArraySlice<Float>], hcHead: HyperConnection, norm: [Float]) -> [Float] {
        let dim = config.dim
        var y = [Float](repeating: 0, count: rows.count * dim)  // [rows, D]
        y.withUnsafeMutableBufferPointer { yp in
            for (i, streams) in rows.enumerated() {
                let out = UnsafeMutableBufferPointer(rebasing: yp[(i * dim)..<((i + 1) * dim)])
                Array(streams).withUnsafeBufferPointer { sp in hc.head(sp, hcHead, into: out) }
                rmsNorm(out, weight: norm, eps: Float(config.normEps))
            }
        }
        return head.apply(y, count: rows.count)
    }
}
