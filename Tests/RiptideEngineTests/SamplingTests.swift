import Foundation
import XCTest

@testable import RiptideEngine

final class SamplingTests: XCTestCase {
    private func params(_ edit: (inout SamplingParams) -> Void) -> SamplingParams {
        var p = SamplingParams()
        edit(&p)
        return p
    }

    private func sample(_ s: inout TokenSampler, _ logits: [Float]) -> (token: Int, logprob: TokenLogprob?) {
        logits.withUnsafeBufferPointer { s.sample(logits: $0) }
    }

    /// Deterministic pseudo-normal logits (sum of uniforms), so every run sees the same vectors.
    private func randomLogits(_ n: Int, seed: UInt64, scale: Float = 3) -> [Float] {
        var rng = TokenSampler.RNG(seed: seed, choice: 0)
        return (0..<n).map { _ in scale * Float((0..<4).reduce(0.0) { a, _ in a + rng.uniform() } - 2) }
    }

    private func softmax(_ x: [Float], temperature: Float = 1) -> [Double] {
        let m = x.max()!
        let e = x.map { Foundation.exp(Double($0 - m) / Double(temperature)) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    private func frequencies(_ p: SamplingParams, _ logits: [Float], draws: Int, seed: UInt64 = 7) -> [Double] {
        var s = TokenSampler(params: p, seed: seed, vocabSize: logits.count)
        var counts = [Int](repeating: 0, count: logits.count)
        for _ in 0..<draws { counts[sample(&s, logits).token] += 1 }
        return counts.map { Double($0) / Double(draws) }
    }

    // MARK: greedy and its equivalents

    func testGreedyEqualsArgmax() {
        for seed in 1...20 as ClosedRange<UInt64> {
            let logits = randomLogits(1000, seed: seed)
            var s = TokenSampler(params: params { $0.temperature = 0 }, seed: seed, vocabSize: 1000)
            XCTAssertEqual(sample(&s, logits).token, logits.indices.max { logits[$0] < logits[$1] }!)
        }
        var s = TokenSampler(params: params { $0.temperature = 0 }, seed: 0, vocabSize: 5)
        XCTAssertEqual(sample(&s, [1, 3, -2, 3, 2]).token, 1, "ties go to the lowest id")
        XCTAssertEqual(sample(&s, [.nan, -1, .nan, -0.5, -3]).token, 3, "NaN never wins")
        XCTAssertEqual(sample(&s, [0, 1, 2, 3, 4, 9, 9]).token, 4, "entries past the vocabulary are padding")
    }

    func testTopK1AndTinyTopPEqualGreedy() {
        for seed in 1...20 as ClosedRange<UInt64> {
            let logits = randomLogits(1000, seed: seed)
            let argmax = logits.indices.max { logits[$0] < logits[$1] }!
            var k1 = TokenSampler(params: params { $0.topK = 1 }, seed: seed, vocabSize: 1000)
            var p0 = TokenSampler(params: params { $0.topP = 1e-6 }, seed: seed, vocabSize: 1000)
            var kp = TokenSampler(params: params { $0.topK = 40; $0.topP = 1e-6; $0.temperature = 1.5 }, seed: seed, vocabSize: 1000)
            XCTAssertEqual(sample(&k1, logits).token, argmax)
            XCTAssertEqual(sample(&p0, logits).token, argmax)
            XCTAssertEqual(sample(&kp, logits).token, argmax)
        }
    }

    // MARK: seeds

    func testSeededReproducibilityAndInterleaving() {
        let steps = (0..<64).map { randomLogits(300, seed: 1000 + UInt64($0), scale: 1) }
        func run(_ seed: UInt64, choice: Int = 0) -> [Int] {
            var s = TokenSampler(params: SamplingParams(), seed: seed, vocabSize: 300, choice: choice)
            return steps.map { sample(&s, $0).token }
        }
        let a = run(1), b = run(2)
        XCTAssertEqual(a, run(1), "same seed, same sequence")
        XCTAssertNotEqual(a, b)
        XCTAssertNotEqual(a, run(1, choice: 1), "choices of one seed draw independently")
        // Stepping two samplers alternately (and an extra one in between) changes neither sequence.
        var sa = TokenSampler(params: SamplingParams(), seed: 1, vocabSize: 300)
        var sb = TokenSampler(params: SamplingParams(), seed: 2, vocabSize: 300)
        var other = TokenSampler(params: params { $0.topP = 0.5 }, seed: 1, vocabSize: 300)
        var ia: [Int] = [], ib: [Int] = []
        for logits in steps {
            ib.append(sample(&sb, logits).token)
            _ = sample(&other, logits)
            ia.append(sample(&sa, logits).token)
        }
        XCTAssertEqual(ia, a)
        XCTAssertEqual(ib, b)
    }

    // MARK: filters

    func testTopKKeepsOnlyTheKLargest() {
        let logits: [Float] = [0.1, 2, 0.3, 1.9, 1.8, -1, 0.5]
        let f = frequencies(params { $0.topK = 3 }, logits, draws: 6000)
        let allowed: Set = [1, 3, 4]
        for t in logits.indices { XCTAssertEqual(f[t] > 0, allowed.contains(t), "token \(t): \(f[t])") }
        let p = softmax([2, 1.9, 1.8])
        for (i, t) in [1, 3, 4].enumerated() { XCTAssertEqual(f[t], p[i], accuracy: 0.02) }
    }

    func testTopPKeepsTheSmallestNucleus() {
        // Probabilities 0.5, 0.3, 0.15, 0.05: top-p 0.7 keeps {0, 1} (0.5 < 0.7 ≤ 0.8), renormalized.
        let logits = [0.5, 0.3, 0.15, 0.05].map { Float(Foundation.log($0)) }
        let f = frequencies(params { $0.topP = 0.7 }, logits, draws: 20000)
        XCTAssertEqual(f[0], 0.625, accuracy: 0.02)
        XCTAssertEqual(f[1], 0.375, accuracy: 0.02)
        XCTAssertEqual(f[2] + f[3], 0)
        // With top-k 2 first, the nucleus is computed on the renormalized pair: 0.625 ≥ 0.6 keeps one.
        XCTAssertEqual(frequencies(params { $0.topK = 2; $0.topP = 0.6 }, logits, draws: 500)[0], 1)
    }

    func testMinP() {
        let logits = [0.5, 0.3, 0.15, 0.05].map { Float(Foundation.log($0)) }
        // min-p 0.2: keep p ≥ 0.1 → {0, 1, 2}, renormalized over 0.95.
        let f = frequencies(params { $0.minP = 0.2 }, logits, draws: 20000)
        XCTAssertEqual(f[3], 0)
        for t in 0..<3 { XCTAssertEqual(f[t], [0.5, 0.3, 0.15][t] / 0.95, accuracy: 0.02) }
        XCTAssertEqual(frequencies(params { $0.minP = 0.7 }, logits, draws: 500)[0], 1, "0.3/0.5 < 0.7")
        // Applied after top-k too (both paths): top-k 3 with min-p 0.5 keeps {0, 1}.
        let g = frequencies(params { $0.minP = 0.5; $0.topK = 3 }, logits, draws: 4000)
        XCTAssertEqual(g[2] + g[3], 0)
        XCTAssertEqual(g[0], 0.625, accuracy: 0.03)
        // After top-p: the 0.9 nucleus is {0, 1, 2}; min-p 0.5 then drops token 2 (0.15 < 0.25).
        let h = frequencies(params { $0.minP = 0.5; $0.topP = 0.9 }, logits, draws: 4000)
        XCTAssertEqual(h[2] + h[3], 0)
        XCTAssertEqual(h[0], 0.625, accuracy: 0.03)
    }

    func testNucleusMatchesAFullSort() {
        let v = 129_280
        for (seed, scale) in [(1, 4), (2, 12), (3, 1)] as [(UInt64, Float)] {
            let logits = randomLogits(v, seed: seed, scale: scale)
            var w = [Float](repeating: 0, count: v)
            let total = logits.withUnsafeBufferPointer { x in
                w.withUnsafeMutableBufferPointer {
                    LogitsProcessor.expSum(x, max: logits.max()!, scale: 1, minWeight: 0, into: $0)
                }
            }
            let order = w.indices.sorted { w[$0] > w[$1] || (w[$0] == w[$1] && $0 < $1) }
            for p in [0.01, 0.3, 0.9, 0.999] {
                var mass = 0.0, expected = Set<Int>()
                for t in order where expected.isEmpty || mass < p * total { expected.insert(t); mass += Double(w[t]) }
                let got = w.withUnsafeMutableBufferPointer { TokenSampler.nucleus($0, target: p * total) }
                XCTAssertEqual(Set(got.map(\.token)), expected, "scale \(scale) top-p \(p)")
                XCTAssertEqual(got.count, expected.count)
            }
        }
        // Equal weights: the cut takes the lowest ids.
        var flat = [Float](repeating: 1, count: 1000)
        let got = flat.withUnsafeMutableBufferPointer { TokenSampler.nucleus($0, target: 250) }
        XCTAssertEqual(got.map(\.token).sorted(), Array(0..<250))
    }

    func testVectorExp() {
        var worst = 0.0
        for i in 0..<100_000 {
            let x = -87 * Float(i) / 100_000
            let y = LogitsProcessor.expNonPositive(SIMD8(repeating: x))[0]
            worst = max(worst, abs(Double(y) / Foundation.exp(Double(x)) - 1))
        }
        XCTAssertLessThan(worst, 3e-7)
        let e = LogitsProcessor.expNonPositive(SIMD8(-.infinity, -90, 0, -0.0, -1e-30, -1, -20, .nan))
        XCTAssertEqual(Array(0..<7).map { e[$0] }, [0, 0, 1, 1, 1, Float(Foundation.exp(-1.0)), Float(Foundation.exp(-20.0))])
        XCTAssertTrue(e[7].isNaN)
    }

    func testDrawDistributionMatchesSoftmax() {
        let logits: [Float] = [0.5, 1.0, -0.3, 0.2]
        for temperature: Float in [1, 0.5] {
            let draws = 20000
            let f = frequencies(params { $0.temperature = temperature }, logits, draws: draws, seed: 42)
            let p = softmax(logits, temperature: temperature)
            var chi2 = 0.0
            for t in 0..<4 {
                XCTAssertEqual(f[t], p[t], accuracy: 0.02, "T=\(temperature) token \(t)")
                chi2 += Double(draws) * (f[t] - p[t]) * (f[t] - p[t]) / p[t]
            }
            XCTAssertLessThan(chi2, 16.27, "χ² with 3 degrees of freedom, p = 0.001")
        }
    }

    func testFullVocabularyNucleusAndTopK() {
        let v = 129_280
        let logits = randomLogits(v, seed: 99, scale: 4)
        let order = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        let p = softmax(logits)
        var mass = 0.0, nucleus = Set<Int>()
        for t in order where mass < 0.9 { nucleus.insert(t); mass += p[t] }
        var s = TokenSampler(params: params { $0.topP = 0.9 }, seed: 3, vocabSize: v)
        var k = TokenSampler(params: params { $0.topK = 50; $0.temperature = 0.7 }, seed: 3, vocabSize: v)
        let top50 = Set(order.prefix(50))
        let start = Date()
        var drawn = Set<Int>()
        for _ in 0..<20 {
            let t = sample(&s, logits).token
            drawn.insert(t)
            XCTAssertTrue(nucleus.contains(t))
            XCTAssertTrue(top50.contains(sample(&k, logits).token))
        }
        XCTAssertGreaterThan(drawn.count, 15, "a nucleus of \(nucleus.count) tokens, not a greedy pick")
        print("full-vocabulary top-p + top-k: \(Date().timeIntervalSince(start) / 40 * 1e3) ms per token; nucleus \(nucleus.count)")
    }

    // MARK: bias and penalties, computed by hand

    func testLogitBiasForcesAToken() {
        let logits = randomLogits(500, seed: 5)
        var s = TokenSampler(params: params { $0.logitBias = [7: 100] }, seed: 1, vocabSize: 500)
        for _ in 0..<50 { XCTAssertEqual(sample(&s, logits).token, 7) }
        let argmax = logits.indices.max { logits[$0] < logits[$1] }!
        var g = TokenSampler(params: params { $0.temperature = 0; $0.logitBias = [argmax: -100] }, seed: 1, vocabSize: 500)
        XCTAssertEqual(sample(&g, logits).token, logits.indices.filter { $0 != argmax }.max { logits[$0] < logits[$1] }!)
    }

    func testRepetitionPenalty() {
        let greedyRep = params { $0.temperature = 0; $0.repetitionPenalty = 1.5 }
        // Positive logit divided: 2.0 / 1.5 = 1.33 < 1.8.
        var s = TokenSampler(params: greedyRep, seed: 0, vocabSize: 3, promptTokens: [0])
        XCTAssertEqual(sample(&s, [2.0, 1.8, -1]).token, 1)
        // Negative logit multiplied: -1.0 · 1.5 = -1.5 < -1.2.
        var n = TokenSampler(params: greedyRep, seed: 0, vocabSize: 2)
        XCTAssertEqual(sample(&n, [-1.0, -1.2]).token, 0)
        n.noteToken(0)  // output tokens count as seen too
        XCTAssertEqual(sample(&n, [-1.0, -1.2]).token, 1)
    }

    func testFrequencyAndPresencePenalties() {
        // Frequency 0.3 per output occurrence: 3.0 − 0.3 = 2.7 > 2.5, then 3.0 − 0.6 = 2.4 < 2.5.
        var f = TokenSampler(params: params { $0.temperature = 0; $0.frequencyPenalty = 0.3 }, seed: 0, vocabSize: 3,
                             promptTokens: [0, 0, 0, 0])
        XCTAssertEqual(sample(&f, [3.0, 2.5, 0]).token, 0, "prompt occurrences do not count")
        f.noteToken(0)
        XCTAssertEqual(sample(&f, [3.0, 2.5, 0]).token, 0)
        f.noteToken(0)
        XCTAssertEqual(sample(&f, [3.0, 2.5, 0]).token, 1)
        XCTAssertEqual(f.processor.outputCounts, [0: 2])
        // Presence 0.4 once, however many times: 3.0 − 0.4 = 2.6 > 2.5 after three occurrences.
        var p = TokenSampler(params: params { $0.temperature = 0; $0.presencePenalty = 0.4 }, seed: 0, vocabSize: 2)
        for _ in 0..<3 { p.noteToken(0) }
        XCTAssertEqual(sample(&p, [3.0, 2.5]).token, 0)
        var q = TokenSampler(params: params { $0.temperature = 0; $0.presencePenalty = 0.6 }, seed: 0, vocabSize: 2)
        q.noteToken(0)
        XCTAssertEqual(sample(&q, [3.0, 2.5]).token, 1)
    }

    func testOrderBiasThenRepetitionThenFrequency() {
        // Bias first: (1.0 + 2) / 2 = 1.5 < 1.9 → 1 (repetition first would give 0.5 + 2 = 2.5 → 0).
        var a = TokenSampler(params: params { $0.temperature = 0; $0.logitBias = [0: 2]; $0.repetitionPenalty = 2 },
                             seed: 0, vocabSize: 2, promptTokens: [0])
        XCTAssertEqual(sample(&a, [1.0, 1.9]).token, 1)
        // Repetition before frequency: 4 / 2 − 0.2 = 1.8 < 1.9 → 1 (the other order ties at 1.9 → 0).
        var b = TokenSampler(params: params { $0.temperature = 0; $0.repetitionPenalty = 2; $0.frequencyPenalty = 0.2 },
                             seed: 0, vocabSize: 2)
        b.noteToken(0)
        XCTAssertEqual(sample(&b, [4.0, 1.9]).token, 1)
    }

    // MARK: logprobs

    func testLogprobsNormalizeAndOrder() {
        let logits: [Float] = [0.3, 2.0, -1.5, 2.0, 0.9, -0.2, 1.1, 0]
        // Temperature and filters do not change the reported logprobs: log-softmax at T = 1.
        var s = TokenSampler(params: params { $0.logprobs = 8; $0.temperature = 0.5; $0.topK = 3 }, seed: 11, vocabSize: 8)
        let (token, lp) = sample(&s, logits)
        let lpv = try! XCTUnwrap(lp)
        XCTAssertEqual(lpv.token, token)
        XCTAssertEqual(lpv.top.map(\.token), [1, 3, 6, 4, 0, 7, 5, 2], "most likely first, ties by lower id")
        XCTAssertEqual(lpv.top.reduce(0.0) { $0 + Foundation.exp(Double($1.logprob)) }, 1, accuracy: 1e-5)
        let p = softmax(logits)
        for (t, l) in lpv.top { XCTAssertEqual(Double(l), Foundation.log(p[t]), accuracy: 1e-5) }
        XCTAssertEqual(lpv.logprob, lpv.top.first { $0.token == token }!.logprob)
        // Greedy fast path agrees; logprobs = 0 gives only the sampled token.
        var g = TokenSampler(params: params { $0.logprobs = 2; $0.temperature = 0 }, seed: 0, vocabSize: 8)
        let gl = try! XCTUnwrap(sample(&g, logits).logprob)
        XCTAssertEqual(gl.token, 1)
        XCTAssertEqual(gl.top.map(\.token), [1, 3])
        XCTAssertEqual(Double(gl.logprob), Foundation.log(p[1]), accuracy: 1e-6)
        var z = TokenSampler(params: params { $0.logprobs = 0 }, seed: 0, vocabSize: 8)
        XCTAssertEqual(sample(&z, logits).logprob?.top.count, 0)
        var none = TokenSampler(params: SamplingParams(), seed: 0, vocabSize: 8)
        XCTAssertNil(sample(&none, logits).logprob)
    }

    func testLogprobsSeePenalties() {
        // Frequency 1 on token 1 once: the reported distribution is softmax([0.3, 1.0, -1.5]).
        var s = TokenSampler(params: params { $0.logprobs = 3; $0.frequencyPenalty = 1; $0.temperature = 0 }, seed: 0, vocabSize: 3)
        s.noteToken(1)
        let lp = try! XCTUnwrap(sample(&s, [0.3, 2.0, -1.5]).logprob)
        let p = softmax([0.3, 1.0, -1.5])
        XCTAssertEqual(lp.token, 1)
        XCTAssertEqual(Double(lp.logprob), Foundation.log(p[1]), accuracy: 1e-6)
        XCTAssertEqual(lp.top.map(\.token), [1, 0, 2])
    }

    func testLargestSelection() {
        let x: [Float] = [3, 1, 3, .nan, 2, 5, 1, -.infinity]
        let top = x.withUnsafeBufferPointer { LogitsProcessor.largest(4, in: $0) }
        XCTAssertEqual(top.map(\.token), [5, 0, 2, 4])
        let all = x.withUnsafeBufferPointer { LogitsProcessor.largest(100, in: $0) }
        XCTAssertEqual(all.map(\.token), [5, 0, 2, 4, 1, 6, 7], "NaN is never selected")
    }
}
