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

    public func newSequence() -> SequenceState { SequenceState(config: config) }

    /// One sequence's part of a forward call.
    public struct Request {
        public let tokens: [Int]
        public let state: SequenceState
        /// Run a prompt at position 0 through the decode path (as chunked prefill's first chunk
        /// would) instead of the prefill path.
        public let forceIncremental: Bool

        public init(tokens: [Int], state: SequenceState, forceIncremental: Bool = false) {
            self.tokens = tokens
            self.state = state
            self.forceIncremental = forceIncremental
        }
    }

    /// What a forward call returns per sequence.
    public struct Output {
        /// fp32 logits of the sequence's last new position [vocab].
        public let logits: [Float]
        /// Final 4-stream states of every new position [S, hc, D] (bf16), the MTP block's input.
        public let finalStreams: [Float]
    }

    /// Runs every request's new tokens; each sequence continues at `state.position`. Position 0
    /// takes the prefill path; later positions take the decode path token by token (extend).
    public func forward(_ batch: [Request], trace: ModelTrace? = nil) throws -> [Output] {
        var tokens: [Int] = [], positions: [Int] = [], segments: [Segment] = []
        for r in batch {
            guard !r.tokens.isEmpty else { throw RiptideModelError.invalidInput("a request has no tokens") }
            if let bad = r.tokens.first(where: { !(0..<config.vocabSize).contains($0) }) {
                throw RiptideModelError.invalidInput("token id \(bad) is outside the vocabulary (0..<\(config.vocabSize))")
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
            if let trace {
                var squares = 0.0
                for v in h { squares += Double(v) * Double(v) }
                trace.residualRMS.append(Float((squares / Double(h.count)).squareRoot()))
            }
        }
        for r in batch { r.state.position += r.tokens.count }
        return segments.map { s in
            let streams = Array(h[(s.rows.lowerBound * width)..<(s.rows.upperBound * width)])
            return Output(logits: logits(lastStreams: streams.suffix(width), hcHead: hcHead, norm: norm), finalStreams: streams)
        }
    }

    /// hc_head → RMSNorm → head, for one position's streams [hc, D].
    func logits(lastStreams: ArraySlice<Float>, hcHead: HyperConnection, norm: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: config.dim)
        Array(lastStreams).withUnsafeBufferPointer { sp in y.withUnsafeMutableBufferPointer { yp in
            hc.head(sp, hcHead, into: yp)
            rmsNorm(yp, weight: norm, eps: Float(config.normEps))
        } }
        return head.apply(y, count: 1)
    }
}
