import Foundation

/// Picks one choice's next token from its logits, with the request's sampling parameters (vLLM/SGLang
/// order): logit_bias and penalties (`LogitsProcessor`), then temperature, then top-k, top-p and
/// min-p filtering, then one seeded draw. Greedy (temperature 0 or top-k 1) is argmax, ties to the
/// lowest id; without bias or penalties it neither copies the logits nor, unless logprobs are asked
/// for, exponentiates them.
///
/// Each choice owns its RNG, so its draws depend only on (seed, choice), never on what else runs or in
/// which order choices are stepped. A non-greedy `sample` takes exactly one draw; greedy takes none.
///
/// Logprobs (when `params.logprobs` is set) are the log-softmax of the logits after bias and penalties
/// at temperature 1, before any filtering, like vLLM's processed logprobs.
public struct TokenSampler: Sendable {
    public let params: SamplingParams
    public let vocabSize: Int
    /// Penalty state: call `noteToken` for every token the choice emits.
    public private(set) var processor: LogitsProcessor
    private var rng: RNG
    /// Reused across steps (allocated on first need): edited logits, then sampling weights, so no
    /// step allocates a vocabulary-sized buffer. 4 bytes per vocabulary entry per choice.
    private var scratch: [Float] = []

    public init(params: SamplingParams, seed: UInt64, vocabSize: Int, promptTokens: [Int] = [], choice: Int = 0) {
        precondition(vocabSize > 0)
        self.params = params
        self.vocabSize = vocabSize
        processor = LogitsProcessor(params: params, vocabSize: vocabSize, promptTokens: promptTokens)
        rng = RNG(seed: seed, choice: choice)
    }

    public var isGreedy: Bool { params.temperature <= 0 || params.topK == 1 }

    /// Records an emitted token for the penalties (the sampler does not assume its own pick is kept).
    public mutating func noteToken(_ token: Int) { processor.noteToken(token) }

    /// The next token of `logits` (at least `vocabSize` entries; any padding beyond is ignored) and,
    /// when asked for, its logprob with the top `params.logprobs` alternatives.
    public mutating func sample(logits: UnsafeBufferPointer<Float>) -> (token: Int, logprob: TokenLogprob?) {
        precondition(logits.count >= vocabSize, "logits has \(logits.count) entries, vocabulary \(vocabSize)")
        let raw = UnsafeBufferPointer(rebasing: logits[0..<vocabSize])
        let edits = processor.isActive
        if !edits && isGreedy {
            let token = Self.argmax(raw)
            return (token, params.logprobs.map { Self.logprob(of: token, raw[token], k: $0, in: raw) })
        }
        let u = isGreedy ? 0 : rng.uniform()  // drawn first so the closure below touches no mutable self
        var work: [Float] = []
        swap(&work, &scratch)  // unique owner now: writing it copies nothing
        defer { swap(&work, &scratch) }
        if work.count != vocabSize { work = [Float](repeating: 0, count: vocabSize) }
        return work.withUnsafeMutableBufferPointer { w in
            var src = raw
            if edits {
                _ = w.initialize(from: raw)
                processor.apply(to: w)
                src = UnsafeBufferPointer(w)
            }
            // Logprobs read `src` before the weights overwrite it; the sampled token's edited logit
            // is recomputed from `raw` afterwards.
            let normalizer = params.logprobs.map { _ in Self.logSumExp(src) }
            let top = params.logprobs.map { Self.largest($0, in: src) }
            let token = isGreedy ? Self.argmax(src) : draw(src, weights: w, u: u)
            guard let lse = normalizer, let top else { return (token, nil) }
            let logit = edits ? processor.adjusted(token, raw[token]) : raw[token]
            return (token, TokenLogprob(token: token, logprob: logit - lse, top: top.map { ($0.token, $0.value - lse) }))
        }
    }

    private static func logprob(of token: Int, _ logit: Float, k: Int, in x: UnsafeBufferPointer<Float>) -> TokenLogprob {
        let lse = logSumExp(x)
        return TokenLogprob(token: token, logprob: logit - lse, top: largest(k, in: x).map { ($0.token, $0.value - lse) })
    }

    private static func argmax(_ x: UnsafeBufferPointer<Float>) -> Int { LogitsProcessor.argmax(x) }
    private static func logSumExp(_ x: UnsafeBufferPointer<Float>) -> Float { LogitsProcessor.logSumExp(x) }
    private static func largest(_ k: Int, in x: UnsafeBufferPointer<Float>) -> [(token: Int, value: Float)] {
        LogitsProcessor.largest(k, in: x)
    }

    /// Temperature, top-k, top-p, min-p, then the draw. Weights are exp((l − max) / T), so the most
    /// likely token weighs exactly 1 and min-p is a plain threshold on them.
    private func draw(_ src: UnsafeBufferPointer<Float>, weights w: UnsafeMutableBufferPointer<Float>, u: Double) -> Int {
        let invT = 1 / params.temperature
        let topP = Double(max(params.topP, 0))
        let minP = min(max(params.minP, 0), 1)
        if params.topK > 0 && params.topK < vocabSize {
            // Top-k: only k candidates (exactly k, ties to the lower id, as torch.topk), no vocabulary-wide exp.
            let kept = Self.largest(params.topK, in: src)
            guard let m = kept.first?.value, m.isFinite else { return Self.argmax(src) }
            let cands = kept.map { (token: $0.token, weight: Float(Foundation.exp(Double(($0.value - m) * invT)))) }
            var cut = cands.count
            if topP < 1 {  // the nucleus of the renormalized top-k: a prefix, as they come sorted
                let target = topP * cands.reduce(0.0) { $0 + Double($1.weight) }
                var acc = 0.0
                for (n, c) in cands.enumerated() {
                    acc += Double(c.weight)
                    if acc >= target { cut = n + 1; break }
                }
            }
            return Self.drawFrom(cands[..<cut], minP: minP, u: u)
        }
        let best = Self.argmax(src), m = src[best]
        guard m.isFinite else { return best }  // nothing finite to weigh (or an infinite bias wins)
        // Without top-p, min-p commutes with everything, so it is folded into the weights.
        let total = LogitsProcessor.expSum(src, max: m, scale: invT, minWeight: topP < 1 ? 0 : minP, into: w)
        if topP < 1 { return Self.drawFrom(Self.nucleus(w, target: topP * total)[...], minP: minP, u: u) }
        var t = u * total, last = 0
        for i in 0..<vocabSize where w[i] > 0 {
            let x = Double(w[i])
            if t < x { return i }
            t -= x
            last = i
        }
        return last  // the running subtraction rounded past the end
    }

    /// The nucleus: the heaviest tokens whose mass first reaches `target` (ties by lower id), found
    /// without sorting the vocabulary. Positive floats order like their bit patterns, so the top 11
    /// bits bucket weights 8 to an octave; a histogram of mass per bucket locates the bucket where the
    /// cut falls, everything above it is in, and only that one bucket gets sorted.
    static func nucleus(_ w: UnsafeMutableBufferPointer<Float>, target: Double) -> [(token: Int, weight: Float)] {
        @inline(__always) func bucket(_ x: Float) -> Int { Int(x.bitPattern >> 20) }
        var mass = [Double](repeating: 0, count: bucket(1) + 1)  // weights are at most 1
        for i in 0..<w.count where w[i] > 0 { mass[bucket(w[i])] += Double(w[i]) }
        var above = 0.0, cut = mass.count - 1
        while cut > 0 && above + mass[cut] < target {
            above += mass[cut]
            cut -= 1
        }
        var kept: [(token: Int, weight: Float)] = [], edge: [(token: Int, weight: Float)] = []
        for i in 0..<w.count where w[i] > 0 {
            let b = bucket(w[i])
            if b > cut { kept.append((i, w[i])) } else if b == cut { edge.append((i, w[i])) }
        }
        edge.sort { $0.weight > $1.weight || ($0.weight == $1.weight && $0.token < $1.token) }
        for c in edge where kept.isEmpty || above < target {
            kept.append(c)
            above += Double(c.weight)
        }
        return kept
    }

    /// One draw among the candidates that pass min-p (the heaviest always does: it weighs 1).
    private static func drawFrom(_ cands: ArraySlice<(token: Int, weight: Float)>, minP: Float, u: Double) -> Int {
        func kept(_ c: (token: Int, weight: Float)) -> Bool { c.weight > 0 && c.weight >= minP }
        var total = 0.0
        for c in cands where kept(c) { total += Double(c.weight) }
        var t = u * total, last = cands.first?.token ?? 0
        for c in cands where kept(c) {
            if t < Double(c.weight) { return c.token }
            t -= Double(c.weight)
            last = c.token
        }
        return last
    }

    /// SplitMix64 → [0, 1) with 53 bits. Choice 0 starts where the old engine sampler did for a seed.
    struct RNG: Sendable {
        private var state: UInt64

        init(seed: UInt64, choice: Int) {
            state = seed ^ 0x9E37_79B9_7F4A_7C15
            if choice != 0 { state = Self.mix(state &+ UInt64(truncatingIfNeeded: choice) &* 0xD1B5_4A32_D192_ED03) }
        }

        mutating func uniform() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            return Double(Self.mix(state) >> 11) * 0x1p-53
        }

        static func mix(_ x: UInt64) -> UInt64 {
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
