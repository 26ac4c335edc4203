import Dispatch
import RiptideKernels

/// One transformer block (spec §2): mHC around attention and around the MoE.
struct Block {
    let attention: Attention
    let moe: MoE
    let attentionNorm: [Float], ffnNorm: [Float]
    let hcAttention: HyperConnection, hcFFN: HyperConnection
    let hc: HyperConnectionMath
    let eps: Float

    /// `layer` indexes compress_ratios: main layers, then the MTP blocks.
    init(_ w: WeightLoader, prefix p: String, layer: Int) throws {
        let c = w.config
        attention = try Attention(w, prefix: p + "attn.", layer: layer)
        moe = try MoE(w, prefix: p + "ffn.", hashRouted: layer < c.nLayers && c.isHashRouted(layer))
        attentionNorm = try w.floats(p + "attn_norm.weight")
        ffnNorm = try w.floats(p + "ffn_norm.weight")
        hcAttention = HyperConnection(fn: try w.matrix(p + "hc_attn_fn"), scale: try w.floats(p + "hc_attn_scale"), base: try w.floats(p + "hc_attn_base"))
        hcFFN = HyperConnection(fn: try w.matrix(p + "hc_ffn_fn"), scale: try w.floats(p + "hc_ffn_scale"), base: try w.floats(p + "hc_ffn_base"))
        hc = HyperConnectionMath(config: c)
        eps = Float(c.normEps)
    }

    /// h [T, hc, D] (bf16) → [T, hc, D].
    func forward(_ h: [Float], tokens: [Int], positions: [Int], segments: [Segment], states: [AttentionState],
                 trace: ModelTrace? = nil) -> [Float] {
        let afterAttention = subBlock(h, hcAttention, attentionNorm) { x in
            timed(trace, \.attention) { attention.forward(x, positions: positions, segments: segments, states: states) }
        }
        return subBlock(afterAttention, hcFFN, ffnNorm) { x in
            timed(trace, \.moe) { moe.forward(x, tokens: tokens, trace: trace) }
        }
    }

    /// hc_pre → RMSNorm → f → hc_post, for every row. One product gives every row's mix; the
    /// per-row Sinkhorn and stream sums are spread over the pool (rows are independent, so the
    /// result does not depend on how they are split).
    private func subBlock(_ h: [Float], _ site: HyperConnection, _ norm: [Float], _ f: ([Float]) -> [Float]) -> [Float] {
        let dim = hc.dim, width = hc.hc * dim, t = h.count / width, m = site.fn.rows
        let products = site.fn.apply(h, count: t)  // [T, m]: xf · fnᵀ
        var x = [Float](repeating: 0, count: t * dim)
        var mixes = [(post: [Float], comb: [Float])](repeating: ([], []), count: t)
        h.withUnsafeBufferPointer { hp in x.withUnsafeMutableBufferPointer { xp in mixes.withUnsafeMutableBufferPointer { mp in
            let (xOut, mixOut) = (xp, mp)  // each row writes its own slots
            forEachRow(t) { i in
                let streams = UnsafeBufferPointer(rebasing: hp[(i * width)..<((i + 1) * width)])
                let r = hc.mixScale(streams)
                let split = hc.splitSinkhorn(products[(i * m)..<((i + 1) * m)].map { $0 * r }, scale: site.scale, base: site.base)
                hc.weightedSum(split.pre, streams, into: UnsafeMutableBufferPointer(rebasing: xOut[(i * dim)..<((i + 1) * dim)]))
                mixOut[i] = (split.post, split.comb)
            }
        } } }
        rmsNormRows(&x, width: dim, weight: norm, eps: eps)
        let y = f(x)
        var out = [Float](repeating: 0, count: h.count)
        y.withUnsafeBufferPointer { yp in h.withUnsafeBufferPointer { hp in out.withUnsafeMutableBufferPointer { op in
            let result = op
            forEachRow(t) { i in
                hc.post(UnsafeBufferPointer(rebasing: yp[(i * dim)..<((i + 1) * dim)]),
                        residual: UnsafeBufferPointer(rebasing: hp[(i * width)..<((i + 1) * width)]),
                        post: mixes[i].post, comb: mixes[i].comb,
                        into: UnsafeMutableBufferPointer(rebasing: result[(i * width)..<((i + 1) * width)]))
            }
        } } }
        return out
    }
}

extension HyperConnectionMath {
    init(config c: ModelConfig) {
        self.init(hc: c.hcMult, dim: c.dim, normEps: Float(c.normEps), hcEps: Float(c.hcEps), sinkhornIters: c.hcSinkhornIters)
    }
}

/// Optional record of what the forward did, for tests and `init-model --stats`.
public final class ModelTrace {
    /// Expert ids per MoE call, [T, k] flattened, in layer order.
    public var routedExperts: [[Int]] = []
    /// SwiGLU elements where the clamp changed a value, and all SwiGLU elements seen.
    public private(set) var clampedElements = 0, swiGLUElements = 0
    /// RMS of the residual streams after each main layer (mean over the batch's rows), when
    /// `recordsResidualRMS` (a pass over every stream; the engine's timing-only traces skip it).
    public var residualRMS: [Float] = []
    public var recordsResidualRMS = true
    /// Where the forward's time went.
    public internal(set) var seconds = ForwardSeconds()

    public init() {}

    func swiGLU(clamped: Int, of total: Int) {
        clampedElements += clamped
        swiGLUElements += total
    }

    public var clampRate: Double { swiGLUElements == 0 ? 0 : Double(clampedElements) / Double(swiGLUElements) }
}

/// Seconds of the forward calls a trace saw, by part. `total - attention - moe - head` is the
/// hyper-connections, norms, embedding and the trace's own bookkeeping.
public struct ForwardSeconds: Sendable {
    /// Attention sublayers with their projections, compressors and indexer.
    public var attention = 0.0
    /// MoE sublayers: routing, routed and shared experts.
    public var moe = 0.0
    /// hc_head, the final norm and the output head.
    public var head = 0.0
    public var total = 0.0
}

/// body(), its wall time added to `trace.seconds[keyPath: part]` when there is a trace.
func timed<T>(_ trace: ModelTrace?, _ part: WritableKeyPath<ForwardSeconds, Double>, _ body: () throws -> T) rethrows -> T {
    guard let trace else { return try body() }
    let start = DispatchTime.now().uptimeNanoseconds
    defer { trace.seconds[keyPath: part] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    return try body()
}
