import Foundation

/// The request-dependent edits to one position's logits, in vLLM/SGLang order: `logit_bias`, then the
/// repetition penalty (tokens seen in prompt or output), then the frequency and presence penalties
/// (output only). Each edit touches only the ids it names, so `apply` costs O(distinct ids seen), not
/// O(vocabulary), and `adjusted` recomputes any single token's edited logit bit for bit.
public struct LogitsProcessor: Sendable {
    /// Bias entries with ids inside the vocabulary (others could never be sampled anyway).
    public let logitBias: [Int: Float]
    public let repetitionPenalty: Float
    public let frequencyPenalty: Float
    public let presencePenalty: Float
    public let vocabSize: Int
    /// Distinct ids of prompt and output; kept only while the repetition penalty is on.
    public private(set) var seen: Set<Int> = []
    /// How often each id was generated; kept only while a frequency or presence penalty is on.
    public private(set) var outputCounts: [Int: Int] = [:]

    public init(params: SamplingParams, vocabSize: Int, promptTokens: [Int] = []) {
        self.vocabSize = vocabSize
        logitBias = params.logitBias.filter { $0.key >= 0 && $0.key < vocabSize && $0.value != 0 }
        // Non-positive penalties are meaningless (and would flip signs); treat them as off.
        repetitionPenalty = params.repetitionPenalty > 0 ? params.repetitionPenalty : 1
        frequencyPenalty = params.frequencyPenalty
        presencePenalty = params.presencePenalty
        if tracksSeen { seen = Set(promptTokens.lazy.filter { $0 >= 0 && $0 < vocabSize }) }
    }

    var tracksSeen: Bool { repetitionPenalty != 1 }
    var tracksCounts: Bool { frequencyPenalty != 0 || presencePenalty != 0 }

    /// Whether `apply` would change anything now; when false the raw logits can be used in place.
    public var isActive: Bool {
        !logitBias.isEmpty || (tracksSeen && !seen.isEmpty) || (tracksCounts && !outputCounts.isEmpty)
    }

    /// Records an emitted output token (sampled, forced or accepted from a draft).
    public mutating func noteToken(_ token: Int) {
        guard token >= 0 && token < vocabSize else { return }
        if tracksSeen { seen.insert(token) }
        if tracksCounts { outputCounts[token, default: 0] += 1 }
    }

    /// One token's logit after every edit; the same float operations, in the same order, as `apply`.
    public func adjusted(_ token: Int, _ logit: Float) -> Float {
        var x = logit
        if let b = logitBias[token] { x += b }
        if tracksSeen && seen.contains(token) { x = Self.repetition(x, repetitionPenalty) }
        if tracksCounts, let c = outputCounts[token] { x = Self.countPenalty(x, c, frequencyPenalty, presencePenalty) }
        return x
    }

    /// Edits `logits` (the whole vocabulary) in place. Pass by pass, so each id sees bias, then
    /// repetition, then frequency/presence, exactly as `adjusted` does.
    public func apply(to logits: UnsafeMutableBufferPointer<Float>) {
        precondition(logits.count >= vocabSize)
        for (t, b) in logitBias { logits[t] += b }
        if tracksSeen { for t in seen { logits[t] = Self.repetition(logits[t], repetitionPenalty) } }
        if tracksCounts {
            for (t, c) in outputCounts { logits[t] = Self.countPenalty(logits[t], c, frequencyPenalty, presencePenalty) }
        }
    }

    /// HF/vLLM: a seen token's logit moves toward "less likely" whatever its sign.
    @inline(__always) static func repetition(_ x: Float, _ p: Float) -> Float { x > 0 ? x / p : x * p }

    @inline(__always) static func countPenalty(_ x: Float, _ count: Int, _ f: Float, _ p: Float) -> Float {
        count > 0 ? x - f * Float(count) - p : x
    }
}

// Full-vocabulary scans used by the sampler. None allocates more than its k-element result.
extension LogitsProcessor {
    /// Index of the largest value, lowest index on ties; NaN never wins; 0 if nothing is finite.
    static func argmax(_ x: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var value = -Float.infinity
        for i in 0..<x.count where x[i] > value {
            value = x[i]
            best = i
        }
        return best
    }

    /// log Σ exp(x): the normalizer of log-softmax, summed in Double around the maximum.
    static func logSumExp(_ x: UnsafeBufferPointer<Float>) -> Float {
        let m = x[argmax(x)]
        guard m.isFinite else { return m }
        return m + Float(Foundation.log(expSum(x, max: m, scale: 1, minWeight: 0, into: nil)))
    }

    /// Σ exp((x − max)·scale), in Double, storing each weight in `out` when given; weights under
    /// `minWeight` (and NaNs) become 0. Eight lanes at a time: this pass is most of a sampled step.
    static func expSum(_ x: UnsafeBufferPointer<Float>, max m: Float, scale: Float, minWeight: Float,
                       into out: UnsafeMutableBufferPointer<Float>?) -> Double {
        let n = x.count
        var total = 0.0, i = 0
        while i < n {
            var v = SIMD8<Float>(repeating: -.infinity)  // the tail's missing lanes weigh 0
            if i + 8 <= n {
                v = UnsafeRawPointer(x.baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self)
            } else {
                for j in 0..<(n - i) { v[j] = x[i + j] }
            }
            var y = expNonPositive((v - m) * scale)
            y.replace(with: 0, where: .!(y .>= minWeight))
            total += Double(y.sum())
            if let out {
                if i + 8 <= n {
                    UnsafeMutableRawPointer(out.baseAddress! + i).storeBytes(of: y, as: SIMD8<Float>.self)
                } else {
                    for j in 0..<(n - i) { out[i + j] = y[j] }
                }
            }
            i += 8
        }
        return total
    }

    /// e^x for x ≤ 0 (NaN stays NaN; below −87, where floats go subnormal, exactly 0, so masked
    /// tokens weigh nothing): Cephes' expf, x = n·ln2 + r then a degree-6 polynomial, about 1 ulp.
    @inline(__always) static func expNonPositive(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let tiny = x .< -87, nan = x .!= x
        let xc = x.replacing(with: 0, where: tiny .| nan)
        // Round to nearest by adding 1.5·2^23: n's integer bits land in t's low mantissa bits.
        let magic: Float = 12_582_912
        let t = xc * 1.442_695_04 + magic
        let n = t - magic
        let r = xc - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * r * r + r + 1
        let bits = unsafeBitCast(t, to: SIMD8<Int32>.self) &- Int32(bitPattern: magic.bitPattern)
        let twoToN = unsafeBitCast((bits &+ 127) &<< 23, to: SIMD8<Float>.self)
        var y = p * twoToN
        y.replace(with: 0, where: tiny)
        y.replace(with: Float.nan, where: nan)
        return y
    }

    /// The k largest values, largest first, ties by lower index. A k-element min-heap whose root is
    /// the worst kept entry: one compare per element for most of the vocabulary, O(V log k) at worst.
    static func largest(_ k: Int, in x: UnsafeBufferPointer<Float>) -> [(token: Int, value: Float)] {
        let k = min(k, x.count)
        guard k > 0 else { return [] }
        var heap: [(token: Int, value: Float)] = []
        heap.reserveCapacity(k)
        // Scanning in index order, an equal value always has the higher index, so it never displaces.
        func worse(_ a: (token: Int, value: Float), _ b: (token: Int, value: Float)) -> Bool {
            a.value < b.value || (a.value == b.value && a.token > b.token)
        }
        var floor = -Float.infinity
        for i in 0..<x.count {
            let v = x[i]
            if heap.count < k {
                if v.isNaN { continue }
                heap.append((i, v))
                var c = heap.count - 1
                while c > 0 {
                    let p = (c - 1) / 2
                    guard worse(heap[c], heap[p]) else { break }
                    heap.swapAt(c, p)
                    c = p
                }
                floor = heap[0].value
            } else if v > floor {
                heap[0] = (i, v)
                var p = 0
                while true {
                    let l = 2 * p + 1, r = l + 1
                    var w = p
                    if l < k && worse(heap[l], heap[w]) { w = l }
                    if r < k && worse(heap[r], heap[w]) { w = r }
                    if w == p { break }
                    heap.swapAt(p, w)
                    p = w
                }
                floor = heap[0].value
            }
        }
        return heap.sorted { worse($1, $0) }
    }
}
