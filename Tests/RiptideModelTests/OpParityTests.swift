import Foundation
import Testing
import RiptideKernels
@testable import RiptideModel

/// Op-level exactness against the Python oracle on identical inputs (issue 3 acceptance): every
/// op whose rounding the spec fixes must give 0 differing elements.
struct OpFixture: @unchecked Sendable {  // read-only after load
    let root: [String: Any]

    static let shared: OpFixture = {
        let url = Bundle.module.url(forResource: "ops", withExtension: "json", subdirectory: "Fixtures")!
        return OpFixture(root: try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any])
    }()

    func section(_ name: String) -> [String: Any] { root[name] as! [String: Any] }
}

extension Dictionary where Key == String, Value == Any {
    func floats(_ key: String) -> [Float] {
        let data = Data(base64Encoded: self[key] as! String)!
        return data.withUnsafeBytes { raw in (0..<(data.count / 4)).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
    }
    func int(_ key: String) -> Int { (self[key] as! NSNumber).intValue }
    func ints(_ key: String) -> [Int] { (self[key] as! [NSNumber]).map(\.intValue) }
    func section(_ key: String) -> [String: Any] { self[key] as! [String: Any] }
}

/// Number of elements that differ bit for bit (NaN equal to NaN, +0 distinct from −0 is ignored).
func differing(_ a: [Float], _ b: [Float]) -> Int {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    return zip(a, b).filter { !($0 == $1 || ($0.isNaN && $1.isNaN)) }.count
}

@Suite struct OpParityTests {
    let f = OpFixture.shared

    @Test func scalarRounding() {
        let s = f.section("scalars"), x = s.floats("x")
        #expect(differing(x.map(roundBF16), s.floats("bf16")) == 0)
        #expect(differing(x.map(roundToE4M3), s.floats("e4m3")) == 0)
        #expect(differing(x.map(roundToE2M1), s.floats("e2m1")) == 0)
    }

    @Test func activationQuantizersAndSimulations() {
        let s = f.section("act_quant"), x = s.floats("x"), rows = s.int("rows"), width = s.int("width")
        var q = [Float](), scales = [Float](), q4 = [Float](), scales4 = [Float](), sim8 = [Float](), sim4 = [Float]()
        for r in 0..<rows {
            let row = Array(x[(r * width)..<((r + 1) * width)])
            var v = [Float](repeating: 0, count: width), sc = [Float](repeating: 0, count: width / 128)
            row.withUnsafeBufferPointer { xp in v.withUnsafeMutableBufferPointer { vp in sc.withUnsafeMutableBufferPointer { sp in
                quantizeFP8(xp, block: 128, values: vp, scales: sp)
            } } }
            q += v; scales += sc
            // FP4 activation quantization = fp4_sim without the final dequantize-and-round.
            for b in stride(from: 0, to: width, by: 32) {
                let block = row[b..<(b + 32)]
                let amax = block.map(abs).max()!
                let scale = Float(sign: .plus, exponent: ceilPow2Exponent(max(amax, 6 * 0x1p-126) * inverseE2M1Max), significand: 1)
                q4 += block.map { roundToE2M1(min(max($0 / scale, -6), 6)) }
                scales4.append(scale)
            }
            var a = row, b = row
            a.withUnsafeMutableBufferPointer { simulateFP8($0, block: 64) }
            b.withUnsafeMutableBufferPointer { simulateFP4($0, block: 32) }
            sim8 += a; sim4 += b
        }
        #expect(differing(q, s.floats("q")) == 0)
        #expect(differing(scales, s.floats("s")) == 0)
        #expect(differing(q4, s.floats("q4")) == 0)
        #expect(differing(scales4, s.floats("s4")) == 0)
        #expect(differing(sim8, s.floats("fp8_sim")) == 0)
        #expect(differing(sim4, s.floats("fp4_sim")) == 0)
    }

    @Test func rmsNormAndQHeadNorm() {
        let s = f.section("norms")
        var x = s.floats("x")
        rmsNormRows(&x, width: s.int("width"), weight: s.floats("weight"), eps: 1e-6)
        #expect(differing(x, s.floats("rms")) == 0)
        var q = s.floats("q")
        let width = s.int("q_width")
        q.withUnsafeMutableBufferPointer { p in
            for r in 0..<s.int("q_rows") { qHeadNorm(UnsafeMutableBufferPointer(rebasing: p[(r * width)..<((r + 1) * width)]), eps: 1e-6) }
        }
        #expect(differing(q, s.floats("q_norm")) == 0)
    }

    @Test func ropeAndInverseRope() {
        let s = f.section("rope"), positions = s.ints("positions"), x = s.floats("x")
        for (name, rope) in [("yarn", RoPE(dim: 64, base: 160_000, originalSeqLen: 65536, factor: 16, betaFast: 32, betaSlow: 1)),
                             ("plain", RoPE(dim: 64, base: 10000, originalSeqLen: 0, factor: 16, betaFast: 32, betaSlow: 1))] {
            let ref = s.section(name)
            #expect(differing(rope.frequencies, ref.floats("freqs")) == 0, "\(name) frequencies")
            var rotated = x, inverse = x
            for (i, p) in positions.enumerated() {
                let table = rope.cosSin(position: p)
                rotated.withUnsafeMutableBufferPointer { rope.apply(UnsafeMutableBufferPointer(rebasing: $0[(i * 64)..<((i + 1) * 64)]), table) }
                inverse.withUnsafeMutableBufferPointer { rope.apply(UnsafeMutableBufferPointer(rebasing: $0[(i * 64)..<((i + 1) * 64)]), table, inverse: true) }
            }
            #expect(differing(rotated, ref.floats("rotated")) == 0, "\(name) rotation")
            #expect(differing(inverse, ref.floats("inverse")) == 0, "\(name) inverse rotation")
        }
    }

    @Test func hadamard() {
        let s = f.section("hadamard")
        var x = s.floats("x")
        x.withUnsafeMutableBufferPointer { p in
            for r in 0..<s.int("rows") { hadamardBF16(UnsafeMutableBufferPointer(rebasing: p[(r * 128)..<((r + 1) * 128)])) }
        }
        #expect(differing(x, s.floats("y")) == 0)
    }

    @Test func hyperConnectionsAndSinkhorn() {
        let s = f.section("hc"), rows = s.int("rows"), dim = s.int("dim"), width = 4 * dim
        let math = HyperConnectionMath(hc: 4, dim: dim, normEps: 1e-6, hcEps: 1e-6, sinkhornIters: 20)
        let streams = s.floats("streams"), fv = s.floats("f")
        let site = HyperConnection(fn: WeightMatrix(rows: 24, cols: width, values: s.floats("fn")), scale: s.floats("scale"), base: s.floats("base"))
        let head = HyperConnection(fn: WeightMatrix(rows: 4, cols: width, values: s.floats("head_fn")), scale: s.floats("head_scale"), base: s.floats("head_base"))
        var y = [Float](), post = [Float](), comb = [Float](), out = [Float](), headOut = [Float]()
        streams.withUnsafeBufferPointer { sp in fv.withUnsafeBufferPointer { fp in
            for r in 0..<rows {
                let st = UnsafeBufferPointer(rebasing: sp[(r * width)..<((r + 1) * width)])
                let split = math.splitSinkhorn(math.mix(st, site.fn), scale: site.scale, base: site.base)
                var yr = [Float](repeating: 0, count: dim), o = [Float](repeating: 0, count: width), h = yr
                yr.withUnsafeMutableBufferPointer { math.weightedSum(split.pre, st, into: $0) }
                o.withUnsafeMutableBufferPointer { math.post(UnsafeBufferPointer(rebasing: fp[(r * dim)..<((r + 1) * dim)]), residual: st, post: split.post, comb: split.comb, into: $0) }
                h.withUnsafeMutableBufferPointer { math.head(st, head, into: $0) }
                y += yr; post += split.post; comb += split.comb; out += o; headOut += h
            }
        } }
        #expect(differing(post, s.floats("post")) == 0)
        #expect(differing(comb, s.floats("comb")) == 0)
        #expect(differing(y, s.floats("y")) == 0)
        #expect(differing(out, s.floats("out")) == 0)
        #expect(differing(headOut, s.floats("head")) == 0)
    }

    @Test func indexerScores() throws {
        let s = f.section("indexer")
        let indexer = try #require(ReferenceModels.tiny.layers[1].attention.indexer)
        let scores = indexer.scores(query: s.floats("q")[...], weights: s.floats("w")[...], keys: s.floats("keys"), count: s.int("count"))
        #expect(differing(scores, s.floats("scores")) == 0)
        #expect(scores[3] == scores[5])
    }

    @Test func sparseAttentionWithSinkAndBlocks() {
        let s = f.section("attention"), q = s.floats("q"), table = s.floats("table")
        var o = [Float](repeating: 0, count: 4 * 128)
        q.withUnsafeBufferPointer { qp in table.withUnsafeBufferPointer { tp in o.withUnsafeMutableBufferPointer { op in
            sparseAttention(q: qp, heads: 4, dim: 128, table: tp, indices: s.ints("indices"), sink: s.floats("sink"), scale: Float(pow(128.0, -0.5)), into: op)
        } } }
        #expect(differing(o, s.floats("o")) == 0)
    }

    @Test func topKTieOrder() {
        let s = f.section("topk")
        #expect(topKDescending(s.floats("scores"), s.int("k")) == s.ints("indices"))
    }

    @Test func gateHashRoutingAndExpertCombineOrder() {
        let s = f.section("moe"), x = s.floats("x"), tokens = s.ints("tokens")
        for layer in [0, 3] {
            let ref = s.section("layer\(layer)")
            let moe = ReferenceModels.tiny.layers[layer].moe
            let route = moe.route(x, tokens: tokens)
            #expect(route.ids == ref.ints("ids"), "layer \(layer) expert ids")
            #expect(differing(route.weights, ref.floats("weights")) == 0, "layer \(layer) routing weights")
            #expect(differing(moe.forward(x, tokens: tokens), ref.floats("y")) == 0, "layer \(layer) MoE output")
        }
    }
}
